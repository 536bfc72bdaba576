"""What every command shares: exit codes, the usage error, help layout. Its
own module so that the command modules (cli/, actors/cli.py) need not
import each other."""

from __future__ import annotations

import argparse

# 0 conformant, 1 findings of severity error, 2 usage or environment error,
# 3 an internal error of rtconform (never confused with findings)
EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


class UsageError(Exception):
    """A problem with the command line or the environment: exit 2."""


def formatter(prog: str) -> argparse.HelpFormatter:
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=32)


def examples(*lines: str) -> str:
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)
