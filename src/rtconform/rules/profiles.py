"""Profiles: which rules apply, and how strictly.

A profile is a package of its own (`rtconform.profiles.<name>`: its rules,
its faults, the map of the checklist it answers, its rule catalogue) that
declares one `Profile`: what it includes, which inherited rules it excludes
or replaces, which severities it changes. Profiles are found through the
`rtconform.profiles` entry point group, so a third party ships one the way
rtconform ships its own (`pyproject.toml`):

    [project.entry-points."rtconform.profiles"]
    acme = "acme_rtconform:PROFILE"

`dicom-rt` is generic cross-object consistency (what any RT exporter owes its
receivers); `brto` adds the IHE-RO Basic RT Objects content constraints as
the IHE-RO test tool checks them at a connectathon; `tppc` the IHE-RO
Treatment Planning – Plan Content rules, beam type by beam type.
"""

from __future__ import annotations

import dataclasses
import importlib
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata, resources
from pathlib import Path

from rtconform.findings import Severity
from rtconform.rules.registry import RULES, RUNNABLE, Rule

ENTRY_POINT_GROUP = "rtconform.profiles"
# rtconform's own, in the order the documentation lists them; also found
# without the entry points when an editable install's metadata is older
# than the checkout (a profile added since `pip install -e .`)
BUILT_IN = {"dicom-rt": "rtconform.profiles.dicom_rt:PROFILE",
            "brto": "rtconform.profiles.brto:PROFILE",
            "tppc": "rtconform.profiles.tppc:PROFILE"}


@dataclass(frozen=True)
class Checklist:
    """An outside checklist the profile answers row by row (the IHE-RO test
    tool's): its row ids, and the map of each row to what checks it here."""

    title: str
    ids: tuple[str, ...]  # every row id, in the checklist's order
    file: str = "coverage.yaml"  # the map, in the profile's package
    shared_name: str = ""  # the checklist itself in ../shared (the tests compare)


@dataclass(frozen=True)
class Profile:
    name: str
    title: str
    source: str
    package: str  # the profile's package: rule modules, faults, checklist map, RULES.md
    includes: tuple[str, ...] = ()
    # inherited rule ids this profile does not apply …
    excludes: frozenset[str] = frozenset()
    # … or applies through a rule of its own that does the same job better
    replaces: Mapping[str, str] = field(default_factory=dict)
    # rule id → severity the profile gives it (BRTO makes some warnings errors)
    severity: Mapping[str, Severity] = field(default_factory=dict)
    # off-by-default rule tags the profile switches on
    enable_tags: frozenset[str] = frozenset()
    rule_modules: tuple[str, ...] = ()  # submodules of `package` that register its rules
    faults_module: str | None = None  # submodule that registers its faults
    checklist: Checklist | None = None
    # its scenarios for `rtconform run --profile NAME`: a folder of .feature files
    # (with the test module that binds them) in the package, and the submodule of
    # its own Gherkin steps (a pytest plugin, loaded beside the common steps)
    features: str | None = None
    steps_module: str | None = None
    # a section the profile adds to every report: a submodule whose
    # `plan_reports(received, redactor, pictures=…)` gives its rows (tppc: beams)
    report_module: str | None = None

    def resource(self, name: str) -> Path:
        """A file shipped in the profile's package."""
        return Path(str(resources.files(self.package) / name))

    def load_rules(self) -> None:
        for module in self.rule_modules:
            importlib.import_module(f"{self.package}.{module}")

    def load_faults(self) -> None:
        if self.faults_module:
            importlib.import_module(f"{self.package}.{self.faults_module}")

    def features_dir(self) -> Path | None:
        return self.resource(self.features) if self.features else None

    @property
    def built_in(self) -> bool:
        return self.package.startswith("rtconform.profiles.")


def _load(target: str) -> Profile:
    module, _, attribute = target.partition(":")
    profile = getattr(importlib.import_module(module), attribute or "PROFILE")
    if not isinstance(profile, Profile):
        raise TypeError(f"{target} is a {type(profile).__name__}, not a Profile")
    return profile


@cache
def profiles() -> dict[str, Profile]:
    """Every installed profile by name: rtconform's own first, then those of
    other packages. A profile whose entry point cannot be loaded is left out
    and said once on stderr (the others still work)."""
    found: dict[str, Profile] = {}
    for point in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda p: p.name):
        try:
            profile = _load(point.value)
            if profile.name != point.name:
                raise ValueError(f"the entry point is named {point.name!r}, the profile "
                                 f"{profile.name!r}")
        except Exception as exc:  # a third party's broken package: said, and left out
            dist = getattr(point.dist, "name", "?")
            print(f"rtconform: profile {point.name!r} of {dist} ({point.value}) left out: "
                  f"{type(exc).__name__}: {exc}", file=sys.stderr)
            continue
        found.setdefault(profile.name, profile)
    for name, target in BUILT_IN.items():
        if name not in found:
            found[name] = _load(target)
    ordered = {name: found.pop(name) for name in BUILT_IN}
    return ordered | dict(sorted(found.items()))


def all_rules() -> list[Rule]:
    """Every rule, after importing the modules that register them: the
    catalogued ids (rules/catalogue.py) and each installed profile's rule
    modules. It lives here, above the registry, because it needs both the
    catalogue and the profiles, which themselves import the registry."""
    from rtconform.rules import catalogue  # noqa: F401  (registers on import)

    for profile in profiles().values():
        profile.load_rules()
    return sorted(RULES.values(), key=lambda r: r.id)


def step_modules() -> list[str]:
    """The Gherkin step modules the profiles ship (pytest plugins)."""
    return [f"{p.package}.{p.steps_module}" for p in profiles().values() if p.steps_module]


def report_sections() -> list:
    """The report modules the profiles ship (see `Profile.report_module`):
    the report reads them from here, so no core module imports a profile."""
    return [importlib.import_module(f"{p.package}.{p.report_module}")
            for p in profiles().values() if p.report_module]


def file_set_rules() -> list[Rule]:
    """The rules that judge a DICOMDIR's File-set (tagged "file-set"), in
    the order they were declared: a DICOMDIR indexes files, it is not an
    object of the set, so only these run on it."""
    all_rules()
    return [r for r in RULES.values() if "file-set" in r.tags]


def get(name: str) -> Profile:
    known = profiles()
    if name not in known:
        raise KeyError(f"unknown profile {name!r}; known: {', '.join(known)}")
    return known[name]


def profile_names(name: str) -> list[str]:
    """The profile and every profile it builds on, most basic first."""
    out: list[str] = []
    for base in get(name).includes:
        out += [n for n in profile_names(base) if n not in out]
    return [*out, name]


def dropped(name: str) -> dict[str, str]:
    """Inherited rule ids the profile (or one it builds on) does not apply,
    with why: 'excluded by P' or 'replaced by RULE (P)'."""
    out: dict[str, str] = {}
    for n in profile_names(name):
        profile = get(n)
        out.update({rule_id: f"excluded by {n}" for rule_id in profile.excludes})
        out.update({old: f"replaced by {new} ({n})" for old, new in profile.replaces.items()})
    return out


def rules_of(name: str, enable_tags: frozenset[str] = frozenset(),
             include_off: bool = False, include_catalogue: bool = False) -> list[Rule]:
    """The rules a profile applies, with the profile's severities (with
    `include_catalogue`, also the ids engines, steps and statements emit)."""
    names = profile_names(name)
    overrides: dict[str, Severity] = {}
    tags = set(enable_tags)
    for n in names:
        overrides.update(get(n).severity)
        tags |= get(n).enable_tags
    gone = dropped(name)
    out = []
    for r in all_rules():
        if r.profile not in names or r.id in gone or \
                (r.scope not in RUNNABLE and not include_catalogue):
            continue
        if not (include_off or r.default_on or r.tags & tags):
            continue
        out.append(dataclasses.replace(r, severity=overrides.get(r.id, r.severity)))
    return out


def problems() -> list[str]:
    """What is wrong in the profiles' declarations (a test keeps this empty;
    a third party can call it on theirs)."""
    known = profiles()
    rules = {r.id: r for r in all_rules()}
    out = []
    for name, profile in known.items():
        for base in profile.includes:
            if base not in known:
                out.append(f"{name} includes unknown profile {base!r}")
        inherited = {r.id for base in profile.includes if base in known
                     for r in rules_of(base, include_off=True)}
        for rule_id in [*profile.excludes, *profile.replaces]:
            if rule_id not in inherited:
                out.append(f"{name} drops {rule_id}, which no profile it includes applies")
        for old, new in profile.replaces.items():
            if new not in rules or rules[new].profile != name:
                out.append(f"{name} replaces {old} by {new}, which is not a rule of {name}")
    for rule in rules.values():
        if rule.profile not in known:
            out.append(f"rule {rule.id} belongs to unknown profile {rule.profile!r}")
    return out


# -- the catalogue as Markdown --------------------------------------------------------------
def _row(r: Rule) -> str:
    on = "" if r.default_on else f" (off by default; `--enable-tag {','.join(sorted(r.tags))}`)"
    return f"| {r.id} | {r.severity} | {r.scope} | {r.title}{on} | {r.source} |".replace("\n", " ")


def profile_markdown(name: str) -> str:
    """One profile's catalogue (its package's RULES.md): what it builds on,
    what it drops, and every finding id of its own."""
    profile = get(name)
    lines = [f"# Profile `{name}`: {profile.title}", "",
             f"Generated by `rtconform rules --markdown --profile {name}` from the rule "
             "registry; a test keeps it current.", "", f"Source: {profile.source}.", ""]
    if profile.includes:
        lines += ["Builds on: " + ", ".join(f"`{n}`" for n in profile.includes)
                  + f" (`rtconform rules --profile {name}` lists them all).", ""]
    own_gone = {rule_id: why for rule_id, why in dropped(name).items()
                if why.endswith(f"by {name}") or why.endswith(f"({name})")}
    if own_gone:
        lines += ["Inherited rules it does not apply:", ""]
        lines += [f"- {rule_id}: {why}" for rule_id, why in sorted(own_gone.items())]
        lines.append("")
    if profile.checklist:
        lines += [f"Checklist: {profile.checklist.title}, {len(profile.checklist.ids)} rows "
                  f"(`rtconform rules --coverage --profile {name}`).", ""]
    rules = [r for r in rules_of(name, include_off=True, include_catalogue=True)
             if r.profile == name]
    lines += ["| id | severity | kind | statement | source |", "|---|---|---|---|---|"]
    lines += [_row(r) for r in rules]
    return "\n".join(lines) + "\n"


def catalogue_markdown() -> str:
    """docs/rules.md: the profiles rtconform ships, each with its catalogue
    in its own package (so adding a rule touches only that package)."""
    lines = ["# Profiles and their finding ids", "",
             "Generated by `rtconform rules --markdown`; tests/rules/test_catalogue.py keeps it "
             "current. Each profile's finding ids are listed in its own package "
             "(`rtconform rules --markdown --profile NAME` prints them).", "",
             "| profile | what it judges | builds on | drops | checklist | finding ids |",
             "|---|---|---|---|---|---|"]
    for name, profile in profiles().items():
        if not profile.built_in:
            continue
        folder = profile.package.replace(".", "/")
        gone = [rule_id for rule_id in sorted(dropped(name))
                if rule_id not in dropped_below(name)]
        checklist = (f"{profile.checklist.title} ({len(profile.checklist.ids)} rows)"
                     if profile.checklist else "")
        lines.append(f"| `{name}` | {profile.title} | "
                     f"{', '.join(f'`{n}`' for n in profile.includes) or '—'} | "
                     f"{', '.join(gone) or '—'} | {checklist or '—'} | "
                     f"[{folder}/RULES.md](../src/{folder}/RULES.md) |")
    return "\n".join(lines)


def dropped_below(name: str) -> set[str]:
    """What the profiles `name` builds on already drop."""
    return {rule_id for base in get(name).includes for rule_id in dropped(base)}
