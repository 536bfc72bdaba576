"""`rtconform sample`: the synthetic RT patient, optionally with one fault."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from rtconform.usage import EXIT_OK, UsageError
from rtconform.usage import examples as _examples
from rtconform.usage import formatter as _formatter


def cmd_sample(args: argparse.Namespace, console: Console) -> int:
    from rtconform.phantom.faults import FAULTS, write_sample

    if args.list_faults:
        # one fault per line, name first: easy to read and to loop over in a shell
        width = max(map(len, FAULTS))
        for fault in FAULTS.values():
            profile = f" --profile {fault.profile}" if fault.profile != "dicom-rt" else ""
            profile += " --complete" if fault.complete else ""
            profile += " (shows in a scenario only)" if fault.scenario_only else ""
            print(f"{fault.name:<{width}}  {fault.description} "
                  f"[{', '.join(sorted(fault.rule_ids))}]{profile}")
        return EXIT_OK
    if args.dir is None:
        raise UsageError("give the folder to write the patient into (rtconform sample DIR)")
    if args.fault and args.fault not in FAULTS:
        raise UsageError(f"unknown fault {args.fault!r}; see rtconform sample --list-faults")
    try:
        paths = write_sample(Path(args.dir), args.fault, args.uid_root, args.set,
                             args.beam_doses, args.export, args.approved,
                             tuple(args.beam_type or ()))
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    what = f" with fault {args.fault!r}" if args.fault else ""
    what += f" planned as {', '.join(args.beam_type)}" if args.beam_type else ""
    what += f" (set {args.set})" if args.set != "equidistant" else ""
    what += f" as a {args.export} export" if args.export else ""
    what += ", plan APPROVED" if args.approved else ""
    console.print(f"wrote {len(paths)} files of the synthetic RT patient{what} to {args.dir}")
    return EXIT_OK


def register(sub) -> None:
    p = sub.add_parser("sample", formatter_class=_formatter,
                       help="write the synthetic RT patient (optionally with one fault)",
                       description="Write a deterministic synthetic RT patient: 60 CT slices, a "
                                   "structure set, geometric and dosimetric plans and a plan "
                                   "dose, shaped as IHE-RO BRTO expects.",
                       epilog=_examples("rtconform sample /tmp/patient",
                                        "rtconform sample /tmp/uneven --set uneven",
                                        "rtconform sample --list-faults",
                                        "rtconform sample /tmp/bad --fault contour-off-plane",
                                        "rtconform sample /tmp/tps --export planning-system",
                                        "rtconform sample /tmp/tree --export patient-tree "
                                        "--approved",
                                        "rtconform sample /tmp/vmat --beam-type vmat",
                                        "rtconform sample /tmp/plans --beam-type all"))
    p.add_argument("dir", nargs="?", help="folder to write into")
    p.add_argument("--fault", metavar="NAME", help="inject one defect (see --list-faults)")
    p.add_argument("--list-faults", action="store_true", help="list the defects --fault knows")
    from rtconform.phantom.sets import SAMPLE_SETS

    p.add_argument("--set", default="equidistant", choices=list(SAMPLE_SETS),
                   help="stimulus set: " + "; ".join(f"{k}: {v}" for k, v in SAMPLE_SETS.items()))
    p.add_argument("--beam-doses", action="store_true",
                   help="add one BEAM dose per beam (a planning system's export; not BRTO)")
    from rtconform.dicom.uids import DEFAULT_UID_ROOT

    p.add_argument("--uid-root", default=DEFAULT_UID_ROOT,
                   help=f"UID root the UIDs are derived from (default {DEFAULT_UID_ROOT})")
    from rtconform.phantom.exports import EXPORT_STYLES

    p.add_argument("--export", choices=list(EXPORT_STYLES),
                   help="write it as an exporter does: " + "; ".join(
                       f"{k}: {v}" for k, v in EXPORT_STYLES.items()))
    p.add_argument("--approved", action="store_true",
                   help="with --export: the dosimetric plan is APPROVED (a re-export must keep "
                        "its UIDs; see rtconform diff-export)")
    from rtconform.phantom.techniques import TECHNIQUES

    p.add_argument("--beam-type", action="append", choices=[*TECHNIQUES, "all"],
                   metavar="TYPE",
                   help="the CT and structure set with one RT Plan of this beam type (IHE-RO "
                        "TPPC's 14; repeat it, or 'all'): " + ", ".join(TECHNIQUES))
    p.set_defaults(func=cmd_sample)
