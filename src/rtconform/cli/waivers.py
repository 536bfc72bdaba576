"""`rtconform waivers example`: a commented waivers file that waives nothing."""

from __future__ import annotations

import argparse
import sys

from rich.console import Console

from rtconform.usage import EXIT_OK
from rtconform.usage import examples as _examples
from rtconform.usage import formatter as _formatter


def register(sub) -> None:
    p = sub.add_parser("waivers", formatter_class=_formatter,
                       help="waivers files: a commented example to start from",
                       epilog=_examples("rtconform waivers example > waivers.yaml",
                                        "rtconform validate export/ --waivers waivers.yaml"))
    wsub = p.add_subparsers(dest="waivers_command", metavar="ACTION", required=True)
    e = wsub.add_parser("example", formatter_class=_formatter,
                        help="print a commented waivers file that waives nothing",
                        epilog=_examples("rtconform waivers example > waivers.yaml"))
    e.set_defaults(func=cmd_waivers_example)


def cmd_waivers_example(args: argparse.Namespace, console: Console) -> int:
    from rtconform.waivers import example

    sys.stdout.write(example())
    return EXIT_OK
