"""Config loading: defaults < YAML < flags < --set, typed checks, one-line errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pytest

from recagora.experiments.runner.config import (
    describe_fields,
    from_dict,
    load_config,
    save_config,
)
from recagora.item_space.errors import ConfigError


@dataclass
class Inner:
    alpha: float = field(default=0.5, metadata={"help": "a weight"})
    mode: Literal["a", "b"] = field(default="a", metadata={"help": "a mode"})


@dataclass
class Outer:
    users: int = field(default=8, metadata={"help": "how many"})
    name: str = field(default="x", metadata={"help": "a name"})
    limit: int | None = field(default=None, metadata={"help": "optional"})
    inner: Inner = field(default_factory=Inner, metadata={"help": "nested"})


def test_precedence_defaults_yaml_flags_set(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("users: 3\nname: from-yaml\ninner:\n  alpha: 0.1\n")
    config = load_config(Outer, path, {"users": 5, "name": None}, ["inner.alpha=0.9"])
    assert config.users == 5  # flag beats YAML
    assert config.name == "from-yaml"  # a flag left at None does not override
    assert config.inner.alpha == 0.9  # --set beats YAML
    assert config.inner.mode == "a"  # default kept


def test_int_accepted_for_float_and_none_for_optional():
    config = load_config(Outer, None, {}, ["inner.alpha=1", "limit=null"])
    assert config.inner.alpha == 1.0 and isinstance(config.inner.alpha, float)
    assert config.limit is None


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("userz=3", "did you mean 'users'"),
        ("inner.alpah=3", "did you mean 'inner.alpha'"),
        ("users=three", "expects int"),
        ("users=true", "expects int"),
        ("inner.mode=c", "is not one of"),
        ("users.x=1", "is a value, not a section"),
        ("users", "is not key=value"),
    ],
)
def test_bad_overrides_raise_one_line_config_error(override, expected):
    with pytest.raises(ConfigError) as error:
        load_config(Outer, None, {}, [override])
    assert expected in str(error.value)
    assert "\n" not in str(error.value)


def test_missing_and_malformed_yaml(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(Outer, tmp_path / "none.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("users: [1,\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(Outer, bad)
    listing = tmp_path / "list.yaml"
    listing.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(Outer, listing)


def test_saved_config_reads_back_identically(tmp_path):
    config = load_config(Outer, None, {"users": 2}, ["inner.mode=b"])
    save_config(config, tmp_path / "config.yaml")
    assert load_config(Outer, tmp_path / "config.yaml") == config


def test_describe_fields_lists_every_leaf_with_help():
    rows = {
        key: (type_name, default, help_text)
        for key, type_name, default, help_text in describe_fields(Outer)
    }
    assert set(rows) == {"users", "name", "limit", "inner.alpha", "inner.mode"}
    assert all(help_text for _, _, help_text in rows.values())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("inner: 5\n", "'inner' is a section, got 5"),
        ("inner: [1, 2]\n", "'inner' is a section"),
        ("inner: null\n", "'inner' is a section"),
        ("1: 2\n", "not a name"),
        ("users:\n  a: 1\n", "expects int"),
        ("inner:\n  nope: 1\n", "unknown config key 'inner.nope'"),
    ],
)
def test_wrongly_nested_yaml_is_one_line(tmp_path, text, expected):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=expected) as error:
        load_config(Outer, path)
    assert "\n" not in str(error.value)


def test_binary_directory_and_alias_bomb_yaml(tmp_path):
    binary = tmp_path / "b.yaml"
    binary.write_bytes(bytes(range(256)))
    with pytest.raises(ConfigError, match="not text"):
        load_config(Outer, binary)
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(Outer, tmp_path)
    # 9 levels of 9 aliases: flattening it naively visits 9**9 leaves; the loader
    # refuses the first unknown key without expanding anything.
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for level in "bcdefghi":
        previous = chr(ord(level) - 1)
        lines.append(f"{level}: &{level} [{', '.join(['*' + previous] * 9)}]")
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(lines))
    with pytest.raises(ConfigError, match="unknown config key 'a'"):
        load_config(Outer, bomb)


def test_set_of_a_section_to_a_scalar_is_one_line():
    with pytest.raises(ConfigError, match="'inner' is a section, got 5"):
        load_config(Outer, None, {}, ["inner=5"])
    with pytest.raises(ConfigError, match="'inner' is a section"):
        load_config(Outer, None, {}, ["inner.alpha=0.2", "inner=5"])
    with pytest.raises(ConfigError, match="'inner' is a section"):
        load_config(Outer, None, {}, ["inner=5", "inner.alpha=0.2"])


def test_dotted_yaml_keys_and_from_dict_read_like_set(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("inner.alpha: 0.25\n")
    assert load_config(Outer, path).inner.alpha == 0.25
    assert from_dict(Outer, {"inner": {"mode": "b"}}).inner.mode == "b"
    with pytest.raises(ConfigError, match="must be a mapping"):
        from_dict(Outer, [1, 2])


def test_training_and_runs_share_one_loader():
    from recagora.experiments.runner import config as run_config
    from recagora.training import configs as training_config

    for name in ("load_config", "build_config", "from_dict", "save_config", "with_overrides"):
        assert getattr(run_config, name) is getattr(training_config, name)
