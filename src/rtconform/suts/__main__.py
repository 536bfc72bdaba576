"""python -m rtconform.suts TOOL            serve the harness's request (its trigger)
python -m rtconform.suts TOOL --version  the tool's version
python -m rtconform.suts install TOOL…   make each tool's virtual environment
python -m rtconform.suts list            the drivers, and whether each tool runs here
"""

from __future__ import annotations

import sys

from rtconform.suts import drivers


def main(argv: list[str]) -> int:
    known = drivers()
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip() + "\n\ntools: " + ", ".join(known))
        return 0 if argv else 2
    if argv[0] == "list":
        for name, driver in known.items():
            print(f"{name}\t{', '.join(driver.actors)}\t{driver.missing() or 'ready'}")
        return 0
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


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
