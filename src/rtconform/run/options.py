"""The options of a scenario run, defined once for both ways in.

`rtconform run` adds each option under its own name (`--sut`, `--stimulus`);
the pytest plugin adds it prefixed (`--rtconform-sut`, `--rtconform-stimulus`),
because a plugin's options land in every pytest session of whoever installs
rtconform, and keeps the spellings it had before the prefix (`--sut`,
`--interactive`) as aliases so existing commands go on working.

`RunSettings` is what one scenario process is told: `pytest_args` writes it
as the plugin's options (what `rtconform run` hands pytest) and
`settings_from_pytest` reads it back in the plugin. Both are pure: they can
be tested without an argv or a pytest session.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

PREFIX = "--rtconform-"


def _stimulus_sets() -> list[str]:
    from rtconform.phantom.sets import SAMPLE_SETS

    return list(SAMPLE_SETS)


def _profile_names() -> list[str]:
    from rtconform.rules.profiles import profiles

    return list(profiles())


@dataclass(frozen=True)
class Option:
    """One option of a run. `name` is the RunSettings field, `--NAME` on the
    command line and `--rtconform-NAME` in pytest."""

    name: str
    help: str
    action: str | None = None
    metavar: str | None = None
    default: object = None
    plugin_help: str | None = None  # where pytest's meaning differs (no rtconform run around)
    aliases: tuple[str, ...] = ()  # the plugin's spellings from before the prefix
    choices: Callable[[], list[str]] | None = None  # checked by the command line (lazy)

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def plugin_flag(self) -> str:
        return PREFIX + self.name.replace("_", "-")

    def _attrs(self, help_text: str) -> dict:
        attrs: dict = {"help": help_text}
        if self.default is not None:  # a flag's default is False, argparse's own
            attrs["default"] = self.default
        if self.action:
            attrs["action"] = self.action
        if self.metavar:
            attrs["metavar"] = self.metavar
        return attrs

    def add_to_argparse(self, parser) -> None:
        attrs = self._attrs(self.help)
        if self.choices is not None:
            attrs["choices"] = self.choices()
        parser.add_argument(self.flag, **attrs)

    def add_to_pytest(self, group) -> None:
        group.addoption(self.plugin_flag, *self.aliases, dest=f"rtconform_{self.name}",
                        **self._attrs(self.plugin_help or self.help))


# Who is tested and how it is made to act.
SUT_OPTIONS = (
    Option("sut", "system under test (YAML)", metavar="FILE", aliases=("--sut",),
           plugin_help="system under test (YAML); default: the embedded reference actors"),
    Option("interactive", "ask an operator to make the SUT act (with the SUT's timeout)",
           action="store_true", aliases=("--interactive",),
           plugin_help="ask an operator to make the SUT act"),
)

# What the harness gives the SUT and what it judges by.
SCENARIO_OPTIONS = (
    Option("profile", "content profile: its scenarios, and what the SUT produces is judged by "
                      "it (default: the SUT file's profile, else brto; tppc: IHE-RO plan "
                      "content, one scenario per beam type)", choices=_profile_names,
           plugin_help="content profile what the SUT produces is judged by (default: the "
                       "SUT file's profile, else brto)"),
    Option("stimulus", "the synthetic patient set the harness gives the SUT (default "
                       "equidistant; see rtconform sample --help)", default="equidistant",
           choices=_stimulus_sets,
           plugin_help="sample set the harness gives the SUT: equidistant, uneven, "
                       "multi-series, limited"),
    Option("seed", "seed of the UIDs of every object the harness sends (default: a new one "
                   "per run, so a store that kept an earlier run's objects changes nothing; "
                   "the header prints it, and the same seed repeats a run)", metavar="SEED",
           plugin_help="seed of the UIDs of everything the harness sends (default: a new one "
                       "per run; give a run's seed to repeat it exactly)"),
)

# Where the evidence goes and what it holds.
EVIDENCE_OPTIONS = (
    Option("out", "run folder (default reports/run-<time>)", metavar="DIR",
           plugin_help="run folder (default: a temporary folder)"),
    Option("engines", "standard engines on what the SUT sends: auto (default: dciodvfy when "
                      "installed), or a comma list that must run (dciodvfy, dicom-validator)",
           default="auto",
           plugin_help="standard engines used on what the SUT sends (comma list; default "
                       "auto: those installed)"),
    Option("redact", "redact patient identity in the report", action="store_true",
           plugin_help="keep patient identity out of the run's logs"),
    Option("debug", "a failed scenario keeps its Python traceback (default: the evidence)",
           action="store_true",
           plugin_help="keep the Python traceback of a failed scenario (default: the "
                       "evidence in DICOM terms)"),
)

# Only pytest has it: `rtconform run --parallel N` starts the N parts.
SHARD = Option("shard", "run the K-th of N parts of the scenarios (0-based; `rtconform run "
                        "--parallel N` starts the N parts and merges their evidence)",
               metavar="K/N", default="")

RUN_OPTION_GROUPS = {"system under test": SUT_OPTIONS, "scenarios": SCENARIO_OPTIONS,
                     "evidence": EVIDENCE_OPTIONS}
OPTIONS = {o.name: o for group in RUN_OPTION_GROUPS.values() for o in group}


def add_plugin_options(group) -> None:
    """Every run option, prefixed, in pytest's `rtconform` option group."""
    for options in RUN_OPTION_GROUPS.values():
        for option in options:
            option.add_to_pytest(group)
    SHARD.add_to_pytest(group)


@dataclass(frozen=True)
class RunSettings:
    """What one scenario process is told (one field per run option)."""

    sut: Path | None = None
    interactive: bool = False
    profile: str | None = None
    stimulus: str = "equidistant"
    seed: str = ""
    out: Path | None = None
    engines: str = "auto"
    redact: bool = False
    debug: bool = False
    shard: tuple[int, int] | None = None  # (K, N): this process runs every N-th from the K-th

    @property
    def engine_names(self) -> tuple[str, ...]:
        return tuple(e for e in self.engines.split(",") if e)


class ShardError(ValueError):
    """--rtconform-shard that is not K/N with 0 <= K < N <= 26."""


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """(K, N) of `K/N`, None for nothing given."""
    if not text:
        return None
    match = re.fullmatch(r"(\d+)/(\d+)", text)
    if not match or not int(match[1]) < int(match[2]) <= 26:
        raise ShardError(f"{SHARD.plugin_flag} {text!r}: K/N with 0 <= K < N <= 26")
    return int(match[1]), int(match[2])


def pytest_args(settings: RunSettings) -> list[str]:
    """The plugin options that tell a scenario process `settings` (the
    defaults left out, so the plugin's own apply)."""
    args: list[str] = []
    for option in OPTIONS.values():
        value = getattr(settings, option.name)
        if option.action == "store_true":
            args += [option.plugin_flag] if value else []
        elif value is not None and value != "":
            args += [option.plugin_flag, str(value)]
    if settings.shard is not None:
        args += [SHARD.plugin_flag, f"{settings.shard[0]}/{settings.shard[1]}"]
    return args


def settings_from_pytest(getoption: Callable[[str], object],
                         environ: dict[str, str] | None = None) -> RunSettings:
    """The settings a pytest session was given (`getoption` is
    `config.getoption`); the run folder may also come from $RTCONFORM_OUT."""
    given = {o.name: getoption(o.plugin_flag) for o in OPTIONS.values()}
    out = given["out"] or (environ or {}).get("RTCONFORM_OUT")
    return RunSettings(
        sut=Path(given["sut"]) if given["sut"] else None, interactive=bool(given["interactive"]),
        profile=given["profile"] or None, stimulus=given["stimulus"] or "equidistant",
        seed=given["seed"] or "", out=Path(out) if out else None,
        engines=given["engines"] or "auto", redact=bool(given["redact"]),
        debug=bool(given["debug"]), shard=parse_shard(getoption(SHARD.plugin_flag)))
