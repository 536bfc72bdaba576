"""`rtconform matrix SUT.yaml…`: the connectathon grid of the given systems."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from rtconform.usage import EXIT_FINDINGS, EXIT_OK, UsageError
from rtconform.usage import examples as _examples
from rtconform.usage import formatter as _formatter


def cmd_matrix(args: argparse.Namespace, console: Console) -> int:
    from rtconform.matrix.plan import MatrixError
    from rtconform.matrix.run import MatrixOptions, run_matrix
    from rtconform.run.runner import RunError
    from rtconform.suts.archives import ArchiveError

    missing = [f for f in args.sut if not Path(f).is_file()]
    if missing:
        raise UsageError(f"no SUT file {', '.join(missing)}")
    out = Path(args.out)
    options = MatrixOptions(out=out, jobs=args.jobs, resume=args.resume,
                            own=not args.no_own_scenarios, archives=args.archive or [],
                            with_reference=not args.no_reference, kinds=args.kind or [],
                            progress=(lambda m: None) if args.quiet else
                            (lambda m: console.print(m, markup=False, highlight=False)))
    try:
        model = run_matrix([Path(f) for f in args.sut], options)
    except (MatrixError, RunError, ArchiveError) as exc:
        raise UsageError(str(exc)) from exc
    if not args.quiet:
        for modality, grid in model["grids"].items():
            console.print(f"\n{modality}", markup=False, highlight=False)
            for cell in grid["cells"]:
                if cell["verdict"] == "not applicable":
                    continue
                via = "; ".join(f"{a}: {v['verdict']}" for a, v in cell["via"].items())
                console.print(f"  {cell['producer']} → {cell['consumer']} ({cell['actor']}): "
                              f"{cell['verdict']} [{via}]", markup=False, highlight=False)
        for p in model["participants"]:
            if p["missing"]:
                console.print(f"not run: {p['name']}: {p['missing']}", markup=False,
                              highlight=False)
    console.print(f"{model['verdict_line']}; grid {out / 'matrix.html'}", markup=False,
                  highlight=False)
    return EXIT_FINDINGS if model["exit_code"] else EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "matrix", formatter_class=_formatter,
        help="pair every producer with every consumer through every Archive: the grid",
        description="Connectathon in a box: run each system's own scenarios, then every "
                    "producer → Archive → consumer chain the actors allow, and write the "
                    "grid (matrix.html, matrix.json: rows producers, columns consumers, one "
                    "grid per object type, each cell with the evidence that decides it). "
                    "The embedded reference actors are one more row and column. Exit 1 when "
                    "a cell fails.",
        epilog=_examples("rtconform matrix suts/*.yaml --out reports/matrix",
                         "rtconform matrix suts/rt-utils.yaml suts/dicompyler-core.yaml "
                         "suts/orthanc.yaml --no-own-scenarios",
                         "rtconform matrix suts/*.yaml --archive orthanc --archive dcmqrscp",
                         "rtconform matrix suts/*.yaml --out reports/matrix --resume"))
    p.add_argument("sut", nargs="+", metavar="SUT.yaml", help="SUT files (suts/ has drivers "
                   "for real tools and Archives)")
    p.add_argument("--out", default="reports/matrix", help="output folder (default "
                   "reports/matrix)")
    p.add_argument("--jobs", type=int, default=2, help="chains run at once (default 2)")
    p.add_argument("--resume", action="store_true",
                   help="after an interruption: keep the seed, skip what is done")
    p.add_argument("--no-own-scenarios", action="store_true",
                   help="only the chains, not each system's own scenarios")
    p.add_argument("--archive", action="append", metavar="NAME",
                   help="only the chains through this Archive (a SUT file's name; repeatable)")
    p.add_argument("--kind", action="append", choices=["structure-set", "plan-and-dose"],
                   help="only these productions (repeatable; default both)")
    p.add_argument("--no-reference", action="store_true",
                   help="without the embedded reference actors as a row and column")
    p.add_argument("-q", "--quiet", action="store_true", help="only the verdict line")
    p.set_defaults(func=cmd_matrix)
