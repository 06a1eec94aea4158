"""Config loading: defaults < YAML < flags < --set, typed checks, one-line errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pytest

from recagora.experiments.runner.config import describe_fields, load_config, save_config
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
