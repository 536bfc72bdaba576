"""User YAML files (`rtconform.yaml_config`): every error names file:line and
the key path, a misspelt key gets the nearest known one, and hostile files
(aliases that expand without end, nesting, huge numbers, duplicate keys,
bytes that are not UTF-8) are refused before they are built."""

from __future__ import annotations

from pathlib import Path

import pytest

from rtconform.yaml_config import MAX_DEPTH, ConfigError, load_checked, load_yaml

SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "ae_title": {"type": "string", "maxLength": 16},
        "port": {"type": "integer", "minimum": 1, "maximum": 65535},
        "actors": {"type": "array", "items": {"type": "string", "pattern": "^[A-Z]",
                                              "description": "an IHE-RO actor name"}},
    },
}


def write(tmp_path: Path, text: str | bytes, name: str = "sut.yaml") -> Path:
    path = tmp_path / name
    (path.write_bytes if isinstance(text, bytes) else path.write_text)(text)
    return path


def test_valid_file_loads_with_the_line_of_every_key(tmp_path: Path) -> None:
    lines: dict = {}
    data = load_checked(write(tmp_path, "ae_title: SUT\nport: 104\nactors:\n  - Archive\n"),
                        SCHEMA, lines)
    assert data == {"ae_title": "SUT", "port": 104, "actors": ["Archive"]}
    assert lines[("port",)] == 2 and lines[("actors", 0)] == 4


def test_errors_are_located_and_a_misspelt_key_is_answered(tmp_path: Path) -> None:
    path = write(tmp_path, "ae_titel: SUT\nport: 70000\nactors:\n  - Archive\n  - contourer\n")
    with pytest.raises(ConfigError) as caught:
        load_checked(path, SCHEMA)
    lines = str(caught.value).splitlines()
    assert lines[0] == (f"{path}:1: (top): Additional properties are not allowed ('ae_titel' "
                        "was unexpected) — did you mean 'ae_title'?")
    assert lines[1] == f"{path}:5: actors[1]: 'contourer' is not an IHE-RO actor name"
    assert lines[2].startswith(f"{path}:2: port: 70000 is greater than the maximum")
    assert len(lines) == 3


def test_a_misspelt_key_is_located_on_its_own_line(tmp_path: Path) -> None:
    """Not on its mapping's first line: a SUT file's typo on line 3 is said on 3."""
    path = write(tmp_path, "ae_title: SUT\nport: 104\nactros: [Archive]\n")
    with pytest.raises(ConfigError) as caught:
        load_checked(path, SCHEMA)
    assert str(caught.value).startswith(f"{path}:3: (top): Additional properties are not "
                                        "allowed ('actros' was unexpected) — did you mean")


def test_an_unknown_key_without_a_near_one_lists_the_known(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="— known: ae_title, port, actors"):
        load_checked(write(tmp_path, "colour: blue\n"), SCHEMA)


@pytest.mark.parametrize(("text", "why"), [
    ("a: 1\nb: 2\na: 3\n", ":3: duplicate key 'a' (first at line 1)"),
    ("port: .nan\n", ":1: .nan is not a finite number"),
    ("port: " + "9" * 5000 + "\n", ":1: a number of 5000 characters is not a usable value"),
    ("a: [1\n", ": not valid YAML"),
])
def test_bad_input_is_a_located_config_error(tmp_path: Path, text: str, why: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_yaml(path)
    assert str(caught.value).startswith(f"{path}{why}")


def test_a_billion_laughs_is_refused_before_it_is_built(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    # a5 is the first past a million values (11, 111, 1111, … once expanded)
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    with pytest.raises(ConfigError, match=r":6: aliases expand to more than 1000000 values"):
        load_yaml(write(tmp_path, "\n".join(lines) + "\n"))


def test_nesting_is_bounded(tmp_path: Path) -> None:
    deep = "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n"
    with pytest.raises(ConfigError, match=rf"nested deeper than {MAX_DEPTH} levels"):
        load_yaml(write(tmp_path, deep))
    ok = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n"
    assert load_yaml(write(tmp_path, ok, "ok.yaml"))[0] is not None


def test_not_utf8_missing_and_empty(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"not UTF-8 text \(invalid start byte at byte 3\)"):
        load_yaml(write(tmp_path, b"a: \xff\xfe\n"))
    with pytest.raises(ConfigError, match="cannot be read"):
        load_yaml(tmp_path / "absent.yaml")
    assert load_yaml(write(tmp_path, "", "empty.yaml")) == (None, None)
