"""python -m rtconform.suts TOOL            serve the harness's request (its trigger)
python -m rtconform.suts TOOL --version  the tool's version
python -m rtconform.suts install TOOL…   make each tool's virtual environment
python -m rtconform.suts list            the drivers, whether each tool runs here (exit 1: not all)
python -m rtconform.suts serve ARCHIVE.yaml RUNNING.yaml [--store DIR]
                                         start an Archive driver's server until Ctrl-C and
                                         write the SUT file `rtconform run --sut` takes
"""

from __future__ import annotations

import sys

from rtconform.suts import drivers


def main(argv: list[str]) -> int:
    known = drivers()
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip() + "\n\ntools: " + ", ".join(known))
        return 0 if argv else 2
    if argv[0] == "list":  # exit 1 when a tool cannot run here (a CI step checks it)
        missing = 0
        for name, driver in known.items():
            why = driver.missing()
            missing += why is not None
            print(f"{name}\t{', '.join(driver.actors)}\t{why or 'ready'}")
        return 1 if missing else 0
    if argv[0] == "serve":
        return serve(argv[1:])
    if argv[0] == "install":
        for name in argv[1:]:
            driver = known.get(name)
            if driver is None:
                print(f"unknown tool {name!r}; known: {', '.join(known)}", file=sys.stderr)
                return 2
            if driver.venv is None:
                print(f"{name}: nothing to install in a virtual environment "
                      f"({driver.missing() or 'ready'})")
                continue
            driver.venv.install()
            print(f"{name}: {driver.version()} in {driver.venv.folder}")
        return 0
    driver = known.get(argv[0])
    if driver is None:
        print(f"unknown tool {argv[0]!r}; known: {', '.join(known)}", file=sys.stderr)
        return 2
    if argv[1:] == ["--version"]:
        if why := driver.missing():
            print(why, file=sys.stderr)
            return 2
        print(driver.version())
        return 0
    return driver.serve()


def serve(argv: list[str]) -> int:
    """Start the Archive a SUT file's driver names, write the SUT file of
    the running server (network, and the harness's C-MOVE receive port it
    knows), and keep it up until Ctrl-C or SIGTERM."""
    import signal
    import tempfile
    import threading
    from pathlib import Path

    from rtconform.run.sut import sut_schema
    from rtconform.suts.archives import ARCHIVES, ArchiveError, ArchiveSpec, free_port
    from rtconform.yaml_config import ConfigError, load_checked

    if len(argv) not in (2, 4) or (len(argv) == 4 and argv[2] != "--store"):
        print("usage: python -m rtconform.suts serve ARCHIVE.yaml RUNNING.yaml [--store DIR]",
              file=sys.stderr)
        return 2
    source, target = Path(argv[0]), Path(argv[1])
    try:
        data = load_checked(source, sut_schema())
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    tool = (data.get("driver") or {}).get("tool", "")
    if tool not in ARCHIVES:
        print(f"{source}: driver.tool {tool!r} is not an Archive driver ({', '.join(ARCHIVES)})",
              file=sys.stderr)
        return 2
    store = Path(argv[3]) if len(argv) == 4 else Path(tempfile.mkdtemp(prefix=f"rtc-{tool}-"))
    receive = free_port()
    callers = ["RTCONFORM", *(d.ae_title for d in drivers().values())]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        with ARCHIVES[tool][0](ArchiveSpec(store, {"HARNESS": ("127.0.0.1", receive)},
                                           callers)) as peer:
            lines = [f"name: {data.get('name', tool)!r}", "actors: [Archive]",
                     f"network: {{ae_title: {peer.ae_title}, host: {peer.host}, "
                     f"port: {peer.port}}}",
                     f"harness: {{receive_ae: HARNESS, receive_port: {receive}}}"]
            if data.get("statement"):
                lines.append(f"statement: {str((source.parent / data['statement']).resolve())!r}")
            target.write_text("\n".join(lines) + "\n", encoding="utf-8")
            print(f"{tool} at {peer}; store {store}; SUT file {target} (Ctrl-C stops it)",
                  flush=True)
            try:
                while not stop.wait(0.5):
                    pass
            except KeyboardInterrupt:
                pass
    except ArchiveError as exc:
        print(f"{tool}: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
