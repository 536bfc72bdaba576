"""`rtconform push`: an export folder to a Storage SCP, each status said."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from rtconform.cli.common import RateColumn, write_json
from rtconform.usage import UsageError
from rtconform.usage import examples as _examples
from rtconform.usage import formatter as _formatter


def register(sub) -> None:
    from rtconform.actors.cli import add_tls_options

    p = sub.add_parser(
        "push", formatter_class=_formatter,
        help="send an export folder to a Storage SCP (rtconform's own C-STORE SCU)",
        description="Send every DICOM object under DIR, as it is on disk, to a Storage SCP: "
                    "one presentation context per SOP class and transfer syntax; files that "
                    "are not DICOM are skipped and said so. Prints what was sent, refused or "
                    "not sent, each status with its PS3.4 meaning. Exit 0: all stored; 1: one "
                    "refused or not sent; 2: no association (or bad options).",
        epilog=_examples("rtconform push export/ --to ARCHIVE@127.0.0.1:11112",
                         "rtconform push export/ --to ARCHIVE@localhost:11112 --wait 60",
                         "rtconform push export/ --to PACS@pacs:2762 --tls-cert me.pem "
                         "--tls-ca ca.pem --json push.json"))
    p.add_argument("dir", metavar="DIR", help="folder (walked recursively) or one file")
    p.add_argument("--to", required=True, metavar="AE@HOST:PORT",
                   help="the Storage SCP: its AE title, host and port")
    p.add_argument("--aet", default="RTCONFORM", metavar="AE",
                   help="the calling AE title (default RTCONFORM)")
    p.add_argument("--wait", type=float, default=0, metavar="SECS",
                   help="keep trying until the receiver answers C-ECHO, up to SECS (a "
                        "receiver still starting; default: try once)")
    p.add_argument("--timeout", type=float, default=60, metavar="SECS",
                   help="connection, ACSE and DIMSE timeout (default 60)")
    p.add_argument("--json", metavar="FILE", help="write each file's status as JSON")
    p.add_argument("-q", "--quiet", action="store_true", help="only the summary line")
    add_tls_options(p)
    p.set_defaults(func=cmd_push)


def cmd_push(args: argparse.Namespace, console: Console) -> int:
    from rtconform.actors.archive import check_ae_title
    from rtconform.actors.cli import SimulateError, tls_config
    from rtconform.actors.node import Peer, PeerUnreachable, Timeouts
    from rtconform.actors.push import push, wait_for

    folder = Path(args.dir)
    if not folder.exists():
        raise UsageError(f"no such file or folder: {folder}")
    try:
        peer = Peer.parse(args.to)
        check_ae_title(peer.ae_title)
        check_ae_title(args.aet)
    except ValueError as exc:
        raise UsageError(f"--to/--aet: {exc}") from exc
    if args.timeout <= 0 or args.wait < 0:
        raise UsageError("--timeout must be more than 0 s and --wait 0 s or more")
    try:
        tls = tls_config(args)
    except SimulateError as exc:
        raise UsageError(str(exc)) from exc
    timeouts = Timeouts(connection=min(args.timeout, 30.0), acse=args.timeout,
                        dimse=args.timeout, network=args.timeout)
    progress = Progress(TextColumn(f"pushing to {escape(str(peer))}"), BarColumn(),
                        MofNCompleteColumn(), RateColumn(), TimeRemainingColumn(),
                        console=Console(stderr=True), transient=True,
                        disable=args.quiet or not sys.stderr.isatty())
    try:
        if args.wait:
            wait_for(peer, args.aet, args.wait, timeouts, tls)
        with progress:
            task = progress.add_task("files", total=None)
            result = push(folder, peer, args.aet, timeouts, tls,
                          progress=lambda _: progress.advance(task),
                          ready=lambda n: progress.update(task, total=n))
    except PeerUnreachable as exc:
        raise UsageError(f"no association with {exc}") from exc
    if not args.quiet:
        table = Table("files", "status or reason", title=f"rtconform push → {escape(str(peer))}")
        for meaning, n in result.statuses():
            table.add_row(str(n), escape(meaning))
        if result.statuses():
            console.print(table)
        for sent in result.failed[:PUSH_LISTED]:
            console.print(f"[red]{sent.outcome}[/] {escape(str(sent.path))}: "
                          f"{escape(sent.describe())}", highlight=False)
        if len(result.failed) > PUSH_LISTED:
            console.print(f"… and {len(result.failed) - PUSH_LISTED} more (all are in --json)")
    if args.json:
        write_json([Path(args.json)], result.to_json())
    verdict = "[bold red]NOT ALL STORED[/]" if result.exit_code else "[bold green]stored[/]"
    console.print(f"{verdict}: {escape(result.line())}", highlight=False)
    return result.exit_code


PUSH_LISTED = 20  # failed files named on the console (all are in --json)
