"""Typed configs from defaults, a YAML file and ``key=value`` overrides.

Precedence: command-line ``--set`` > YAML > dataclass defaults. Nested configs are
addressed with dots (``backbone.lora_r=8``). Unknown keys and values of the wrong
type raise `ConfigError` naming the key (with a did-you-mean).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml

from recagora.item_space.errors import ConfigError, did_you_mean

T = TypeVar("T")


def build_config(
    cls: type[T], yaml_path: str | Path | None = None, overrides: Sequence[str] = ()
) -> T:
    """An instance of the dataclass `cls` with YAML values, then overrides, applied."""
    values: dict[str, Any] = {}
    if yaml_path is not None:
        path = Path(yaml_path)
        if not path.is_file():
            raise ConfigError(f"config file {str(path)!r} not found; pass an existing YAML file")
        values = yaml.safe_load(path.read_text()) or {}
        if not isinstance(values, dict):
            raise ConfigError(f"config file {str(path)!r} must hold a mapping of field: value")
    for override in overrides:
        key, sep, raw = override.partition("=")
        if not sep:
            raise ConfigError(f"override {override!r} is not key=value; write e.g. max_steps=100")
        _set_dotted(values, key.strip(), yaml.safe_load(raw))
    return from_dict(cls, values)


def from_dict(cls: type[T], values: dict[str, Any], prefix: str = "") -> T:
    """Instantiate a (nested) dataclass from a plain dict, checking keys and types."""
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in values.items():
        if key not in known:
            raise ConfigError(f"unknown config field {prefix + key!r}{did_you_mean(key, known)}")
        kwargs[key] = _coerce(hints[key], value, prefix + key)
    return cls(**kwargs)


def to_dict(config: Any) -> dict[str, Any]:
    """Plain nested dict of a config dataclass (for YAML/JSON)."""
    return dataclasses.asdict(config)


def save_config(config: Any, path: Path) -> None:
    path.write_text(yaml.safe_dump(to_dict(config), sort_keys=False))


def _set_dotted(values: dict[str, Any], key: str, value: Any) -> None:
    head, _, rest = key.partition(".")
    if rest:
        _set_dotted(values.setdefault(head, {}), rest, value)
    else:
        values[head] = value


def _coerce(hint: Any, value: Any, name: str) -> Any:
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise ConfigError(f"config field {name!r} is a section; give it a mapping")
        return from_dict(hint, value, prefix=name + ".")
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in typing.get_args(hint):
            return None
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
        origin = typing.get_origin(hint)
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"config field {name!r} expects a list, got {value!r}")
        return [_coerce(typing.get_args(hint)[0], v, name) for v in value]
    return _scalar(hint, value, name)


def _scalar(hint: Any, value: Any, name: str) -> Any:
    if hint is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if hint is str and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if (
        hint in (int, float, str, bool)
        and not isinstance(value, hint)
        or (hint is int and isinstance(value, bool))
    ):
        raise ConfigError(f"config field {name!r} expects {hint.__name__}, got {value!r}")
    return value
