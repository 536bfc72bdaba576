"""rtconform's one entry point (`rtconform`, `python -m rtconform`): one
module per command, each registering its sub-command and options; the
parser and `main` in parser.py; what several commands share in common.py and
options.py (the options `rtconform run` shares with the pytest plugin are
rtconform.run.options)."""

from rtconform.cli.parser import build_parser, main

__all__ = ["build_parser", "main"]
