"""The run options defined once (rtconform.run.options): what `rtconform run`
hands each scenario process, what the pytest plugin reads back, and the old
un-prefixed plugin spellings. Pure functions: no argv of a real run, no
pytest session, no network."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from rtconform.cli import build_parser
from rtconform.cli.run import run_settings
from rtconform.run.options import (
    OPTIONS,
    RunSettings,
    ShardError,
    add_plugin_options,
    parse_shard,
    pytest_args,
    settings_from_pytest,
)


def _plugin_parser() -> argparse.ArgumentParser:
    """pytest's option group, played by argparse (pytest's addoption takes
    argparse's arguments, so the same Option must fit both)."""
    parser = argparse.ArgumentParser()

    class Group:
        def addoption(self, *flags, **attrs):
            parser.add_argument(*flags, **attrs)

    add_plugin_options(Group())
    return parser


def _getoption(namespace: argparse.Namespace):
    """config.getoption by a flag, as pytest maps flags to dests."""
    def get(flag: str, default=None):
        return getattr(namespace, "rtconform_" + flag.removeprefix("--rtconform-")
                       .replace("-", "_"), default)
    return get


def test_run_options_become_the_plugin_options_a_scenario_process_gets(tmp_path):
    args = build_parser().parse_args(
        ["run", "--sut", "sut.yaml", "--out", str(tmp_path), "--stimulus", "uneven",
         "--seed", "5f3a9c1e", "--profile", "tppc", "--engines", "dciodvfy", "--redact",
         "--interactive", "--tags", "ro2"])
    settings = run_settings(args, tmp_path)
    assert settings == RunSettings(sut=Path("sut.yaml"), interactive=True, profile="tppc",
                                   stimulus="uneven", seed="5f3a9c1e", out=tmp_path,
                                   engines="dciodvfy", redact=True)
    assert pytest_args(settings) == [
        "--rtconform-sut", "sut.yaml", "--rtconform-interactive",
        "--rtconform-profile", "tppc", "--rtconform-stimulus", "uneven",
        "--rtconform-seed", "5f3a9c1e", "--rtconform-out", str(tmp_path),
        "--rtconform-engines", "dciodvfy", "--rtconform-redact"]


def test_what_a_run_hands_pytest_is_what_the_plugin_reads_back(tmp_path):
    sent = RunSettings(sut=tmp_path / "sut.yaml", profile="brto", stimulus="limited",
                       seed="abc", out=tmp_path / "run", engines="auto", debug=True,
                       shard=(1, 3))
    received = settings_from_pytest(_getoption(_plugin_parser().parse_args(pytest_args(sent))))
    assert received == sent


def test_defaults_are_left_to_the_plugin():
    assert pytest_args(RunSettings()) == ["--rtconform-stimulus", "equidistant",
                                          "--rtconform-engines", "auto"]
    assert settings_from_pytest(_getoption(_plugin_parser().parse_args([]))) == RunSettings()


def test_the_old_plugin_spellings_still_work(tmp_path):
    namespace = _plugin_parser().parse_args(["--sut", "vendor.yaml", "--interactive"])
    settings = settings_from_pytest(_getoption(namespace))
    assert settings.sut == Path("vendor.yaml") and settings.interactive
    assert OPTIONS["sut"].aliases == ("--sut",) and OPTIONS["interactive"].aliases == (
        "--interactive",)


def test_every_plugin_option_is_prefixed():
    flags = [a.option_strings for a in _plugin_parser()._actions if a.dest != "help"]
    assert all(f[0].startswith("--rtconform-") for f in flags)
    assert {f for group in flags for f in group if not f.startswith("--rtconform-")} == {
        "--sut", "--interactive"}


def test_the_run_folder_may_come_from_the_environment(tmp_path):
    getoption = _getoption(_plugin_parser().parse_args([]))
    assert settings_from_pytest(getoption, {"RTCONFORM_OUT": str(tmp_path)}).out == tmp_path


@pytest.mark.parametrize("text", ["3/3", "1", "a/b", "0/27", "-1/2"])
def test_a_shard_is_k_of_n(text):
    with pytest.raises(ShardError, match="K/N"):
        parse_shard(text)


def test_shards_parse():
    assert parse_shard("") is None and parse_shard(None) is None
    assert parse_shard("0/2") == (0, 2) and parse_shard("25/26") == (25, 26)


def test_the_run_command_checks_choices_the_plugin_leaves_to_the_run(capsys):
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["run", "--stimulus", "nonsense"])
    assert exit_.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_validate_options_become_the_pipeline_s_options(tmp_path):
    from rtconform.cli.validate import VALIDATE_STATE, check_inputs, validation_options
    from rtconform.redact import Redactor

    args = build_parser().parse_args(
        ["validate", str(tmp_path), "--engines", "tro", "--profile", "brto", "--tolerance",
         "0.5", "--complete", "--enable-tag", "log", "--given", str(tmp_path), "--jobs", "3",
         "--out", str(tmp_path / "v"), "--resume", "--max-object-mb", "64"])
    assert check_inputs(args) == [tmp_path]
    redactor = Redactor(enabled=True)
    options = validation_options(args, redactor)
    assert (options.engines, options.use_tro_rules, options.profile) == ([], True, "brto")
    assert (options.context.tolerance_mm, options.context.complete) == (0.5, True)
    assert options.rule_tags == frozenset({"log"}) and options.given == [tmp_path]
    assert (options.jobs, options.processes, options.resume) == (3, True, True)
    assert options.state == tmp_path / "v" / VALIDATE_STATE and options.max_object_mb == 64
    assert options.redactor is redactor


@pytest.mark.parametrize(("argv", "said"), [
    (["--resume"], "--resume needs --out DIR"),
    (["--jobs", "0"], "--jobs must be 1 or more"),
    (["--given", "/no/such/stimulus"], "no such file or folder: /no/such/stimulus"),
])
def test_validate_inputs_that_cannot_be_used_are_usage_errors(tmp_path, argv, said):
    from rtconform.cli.validate import check_inputs
    from rtconform.usage import UsageError

    with pytest.raises(UsageError, match=said):
        check_inputs(build_parser().parse_args(["validate", str(tmp_path), *argv]))


def test_the_run_header_gives_the_seed_that_repeats_the_run(tmp_path, capsys):
    """Printed before anything starts (here a --tags error stops the run at once)."""
    import re

    from rtconform.cli import main

    assert main(["run", "--tags", "ro1 and", "--out", str(tmp_path / "run")]) == 2
    said = capsys.readouterr().out
    seed = re.search(r"UID seed (\S+): --seed (\S+) repeats", said)
    assert seed and seed[1] == seed[2] and re.fullmatch(r"[0-9a-f]{8}", seed[1]), said
    assert main(["run", "--tags", "ro1 and", "--seed", "5f3a9c1e"]) == 2
    assert "UID seed 5f3a9c1e: --seed 5f3a9c1e repeats" in capsys.readouterr().out
