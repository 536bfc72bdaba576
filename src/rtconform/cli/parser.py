"""The `rtconform` parser (each command module registers its own
sub-command) and `main`, which turns what a command raises into the exit
codes every command shares: 0 conformant, 1 findings of severity error,
2 usage or environment error, 3 an internal error of rtconform."""

from __future__ import annotations

import argparse
import os
import sys

from rich.markup import escape

from rtconform import __version__
from rtconform.cli import (
    diff_export,
    matrix,
    push,
    reconcile,
    report,
    rules,
    run,
    sample,
    statement,
    validate,
    waivers,
)
from rtconform.console import make_console
from rtconform.usage import EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, UsageError
from rtconform.usage import examples as _examples
from rtconform.usage import formatter as _formatter


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rtconform", formatter_class=_formatter,
        description="Does a system speak DICOM RT the way IHE-RO TRO and its conformance "
                    "statement say it does?",
        epilog=_examples("rtconform sample /tmp/patient", "rtconform validate /tmp/patient",
                         "rtconform simulate archive --port 11112 --store /tmp/archive",
                         "rtconform rules") + "\n\nexit codes: 0 conformant, 1 errors found, "
                                              "2 usage or environment error, 3 internal error")
    parser.add_argument("--version", action="version", version=f"rtconform {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in (sample, validate, run, report, statement, diff_export, reconcile, push,
                    waivers):
        command.register(sub)
    from rtconform.actors.cli import register as register_simulate

    register_simulate(sub, _formatter)
    rules.register(sub)
    matrix.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from rtconform.dicom.read import quiet_reading

    quiet_reading()
    parser = build_parser()
    args = parser.parse_args(argv)
    # full width when not a terminal (CI logs): no table wrapped at 80 columns
    console = make_console(soft_wrap=True, width=None if sys.stdout.isatty() else 200)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    errors = make_console(stderr=True, soft_wrap=True)  # one message, one line: no wrapping
    try:
        return args.func(args, console)
    except UsageError as exc:
        errors.print(f"[bold red]rtconform {args.command}:[/] {escape(str(exc))}",
                     highlight=False)
        return EXIT_USAGE
    except KeyboardInterrupt as exc:
        errors.print(f"rtconform {args.command}: interrupted"
                     + (f" {escape(str(exc))}" if str(exc) else ""), highlight=False)
        return EXIT_USAGE
    except BrokenPipeError:  # `rtconform ... | head`: the reader left, as dcmtk tools allow
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # a defect of rtconform itself, never "findings": exit 3
        errors.print(f"[bold red]rtconform {args.command}: internal error:[/] "
                     f"{escape(f'{type(exc).__name__}: {exc}')} (please report it; "
                     "RTCONFORM_DEBUG=1 shows the traceback)", highlight=False)
        if os.environ.get("RTCONFORM_DEBUG"):
            raise
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
