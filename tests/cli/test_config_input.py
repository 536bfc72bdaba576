"""User files are input like any other: a billion-laughs statement, 5,000
levels of nesting, non-UTF-8 bytes or a wrong type end in a located message
and exit 2 — for statements, SUT files and waivers alike — and a large,
valid statement is read in proportion to its size."""

from __future__ import annotations

import pytest

from rtconform.cli import main

LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8))
DEEP = "a: " + "[" * 5000 + "]" * 5000 + "\n"
DEEPER_THAN_OURS = "a: " + "[" * 100 + "]" * 100 + "\n"  # PyYAML composes it; we refuse it


def _commands(path):
    return {"statement": ["statement", "check", str(path)],
            "sut": ["run", "--sut", str(path), "--out", str(path.parent / "run")],
            "waivers": ["validate", str(path.parent), "--engines", "tro", "--waivers",
                        str(path)]}


@pytest.mark.parametrize("kind", ["statement", "sut", "waivers"])
@pytest.mark.parametrize(("text", "said"), [
    (LAUGHS, "aliases expand to more than"),
    # PyYAML ≥ 6.0.4 refuses this depth itself, in its own words; either way it is
    # refused as nesting, located, exit 2
    (DEEP, "nest"),
    (DEEPER_THAN_OURS, "nested deeper than 64 levels"),
    (b"name: caf\xe9\n", "not UTF-8 text"),
    ("[unclosed\n", "not valid YAML"),
])
def test_hostile_config_files_exit_2_located(tmp_path, capsys, kind, text, said):
    folder = tmp_path / kind
    folder.mkdir()
    path = folder / "input.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    assert main(_commands(path)[kind]) == 2  # refused by its bound, not after expanding it
    err = capsys.readouterr().err
    assert str(path) in err and said in err, err
    assert "Traceback" not in err


def test_bounds_do_not_refuse_the_shipped_statements(capsys):
    from helpers import ROOT

    for path in sorted((ROOT / "conformance").glob("*.yaml")):
        assert main(["statement", "check", str(path)]) == 0, capsys.readouterr().err


def test_a_large_valid_statement_is_read(tmp_path, capsys):
    """5 MB of SOP class rows (the issue measured 89 s) are read and checked,
    not refused by the bounds; how long it takes is no test's business (the
    suite's own time shows it)."""
    rows = "".join(f"      - {{uid: 1.2.840.10008.5.1.4.1.1.{i}, name: Class {i}, roles: [SCP], "
                   f"transfer_syntaxes: [1.2.840.10008.1.2]}}\n" for i in range(50_000))
    path = tmp_path / "big.yaml"
    path.write_text("schema: rtconform-statement/1\nproduct: {manufacturer: M, name: N, "
                    "version: '1'}\napplication_entities:\n  - ae_title: BIG\n    source: t\n"
                    "    sop_classes:\n" + rows)
    assert path.stat().st_size > 5_000_000
    code = main(["statement", "check", str(path)])
    out = capsys.readouterr()
    assert code in (0, 2) and "Traceback" not in out.err, out.err[-500:]


SUT_HEAD = "name: x\nactors: [Archive]\n"


@pytest.mark.parametrize(("body", "line", "said"), [
    ("network: {ae_title: 'A\\B', host: 127.0.0.1, port: 104}\n", 3, "an AE title (PS3.5 AE)"),
    ('network: {ae_title: "A\\eB", host: 127.0.0.1, port: 104}\n', 3, "no control characters"),
    (f"network: {{ae_title: V, host: 127.0.0.1, port: {'9' * 5000}}}\n", 3,
     "a number of 5000 characters"),
    ("network: {ae_title: V, host: 127.0.0.1, port: 70000}\n", 3, "70000 is greater than"),
    ("network: {ae_title: V, host: 127.0.0.1, port: 104}\ntimeout: .nan\n", 4,
     ".nan is not a finite number"),
    ("network: {ae_title: V, host: 127.0.0.1, port: 104}\ntimeout: -.inf\n", 4,
     "not a finite number"),
    ("network: {ae_title: V, host: 127.0.0.1, port: 104}\nactors: [Contourer]\n", 4,
     "duplicate key 'actors' (first at line 2)"),
], ids=["backslash", "escape", "5000 digits", "port range", "nan", "inf", "duplicate"])
def test_sut_values_that_reached_an_internal_error_exit_2_located(tmp_path, capsys, body, line,
                                                                  said):
    """PS3.5 AE titles, ports 1-65535, finite timeouts, no duplicate keys:
    each refused with file:line before anything is built (issue 23 item 6)."""
    path = tmp_path / "sut.yaml"
    path.write_text(SUT_HEAD + body)
    assert main(["run", "--sut", str(path), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert f"{path}:{line}:" in err and said in err, err
    assert "internal error" not in err and "Traceback" not in err, err
