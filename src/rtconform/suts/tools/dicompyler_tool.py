"""Runs inside dicompyler-core's own virtual environment (pydicom 2; no
rtconform there): the tool's documented dicomparser and dvhcalc API only.

    load DIR      parse every object; with a structure set and a dose, a DVH per ROI
    version
"""

import json
import os
import sys
from importlib.metadata import version


def main(argv):
    if argv[0] == "version":
        print(version("dicompyler-core"))
        return 0
    if argv[0] != "load":
        print(f"unknown command {argv[0]}", file=sys.stderr)
        return 2
    from dicompylercore import dicomparser, dvhcalc

    found, skipped = {}, []
    for root, _, files in os.walk(argv[1]):
        for name in sorted(files):
            path = os.path.join(root, name)
            try:
                parser = dicomparser.DicomParser(path)
            except Exception as exc:  # dicomparser refused it: said, not dropped
                skipped.append(f"{name}: {type(exc).__name__}: {exc}")
                continue
            found.setdefault(parser.GetSOPClassUID(), []).append((path, parser))
    out = {"objects": {kind: len(items) for kind, items in found.items()}}
    if skipped:
        out["not_parsed"] = skipped
    for _, ss in found.get("rtss", []):
        structures = ss.GetStructures()
        out["structures"] = {str(s["name"]): len(ss.GetStructureCoordinates(n))
                             for n, s in structures.items()}
    for _, plan in found.get("rtplan", []):
        out["plan"] = {k: str(v) for k, v in plan.GetPlan().items() if k in ("label", "name",
                                                                          "rxdose")}
    for _, dose in found.get("rtdose", []):
        grid = dose.GetDoseData()
        out["dose_grid"] = [len(grid.get("lut", [[], []])[0]), len(grid.get("lut", [[], []])[1]),
                            len(dose.ds.GridFrameOffsetVector)]
    if found.get("rtss") and found.get("rtdose"):
        (ss_path, ss), (dose_path, _) = found["rtss"][0], found["rtdose"][0]
        dvhs = {}
        for number, s in ss.GetStructures().items():
            if not ss.GetStructureCoordinates(number):
                continue
            dvh = dvhcalc.get_dvh(ss_path, dose_path, number)
            dvhs[str(s["name"])] = {"volume_cc": round(float(dvh.volume), 2),
                                    "mean_gy": round(float(dvh.mean), 2),
                                    "max_gy": round(float(dvh.max), 2),
                                    "D95_gy": round(float(dvh.statistic("D95").value), 2)}
        out["dvh"] = dvhs
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
