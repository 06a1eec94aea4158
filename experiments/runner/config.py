"""Typed experiment configs: dataclasses <- YAML <- command line.

Precedence (the one place it is written down): field defaults < `--config file.yaml`
< explicit command-line flags (`--users 8`) < `--set key=value` overrides, applied
in that order. Nested configs are addressed with dots (`--set trirec.alpha_max=0.5`,
or a `trirec:` mapping in YAML). A key that does not exist, or a value of the wrong
type, raises `ConfigError` with one line naming the key and the closest match.

Every config field is declared as `field(default=..., metadata={"help": "..."})`
(TRL's convention, see style-anchors P7) so `describe_fields` can print it.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml

from recagora.item_space.errors import ConfigError, did_you_mean

ConfigT = TypeVar("ConfigT")


def load_config(
    config_cls: type[ConfigT],
    yaml_path: str | Path | None = None,
    flags: Mapping[str, Any] | None = None,
    overrides: Iterable[str] = (),
) -> ConfigT:
    """Build `config_cls` from defaults, then YAML, then `flags`, then `key=value` overrides.

    Args:
        config_cls: a (possibly nested) dataclass type.
        yaml_path: optional YAML file holding a mapping of fields.
        flags: dotted key -> value from explicit CLI options; None values are "not given".
        overrides: "dotted.key=value" strings; values are parsed as YAML scalars.

    Raises:
        ConfigError: unknown key, wrong type, unreadable YAML, malformed override.
    """
    values: dict[str, Any] = {}
    if yaml_path is not None:
        _merge(values, flatten_mapping(_read_yaml(Path(yaml_path))))
    _merge(values, {k: v for k, v in (flags or {}).items() if v is not None})
    _merge(values, dict(parse_override(text) for text in overrides))
    return build_config(config_cls, values)


def build_config(config_cls: type[ConfigT], flat_values: Mapping[str, Any]) -> ConfigT:
    """Instantiate `config_cls` from dotted key -> value pairs (checked and coerced)."""
    nested: dict[str, Any] = {}
    for dotted, value in flat_values.items():
        _check_key(config_cls, dotted)
        cursor = nested
        *parents, leaf = dotted.split(".")
        for part in parents:
            cursor = cursor.setdefault(part, {})
        cursor[leaf] = value
    return _instantiate(config_cls, nested, prefix="")


def with_overrides(config: ConfigT, overrides: Iterable[str]) -> ConfigT:
    """A copy of `config` with "dotted.key=value" overrides applied (checked like `--set`)."""
    flat = flatten_mapping(config_to_dict(config))
    flat.update(dict(parse_override(text) for text in overrides))
    return build_config(type(config), flat)


def config_to_dict(config: Any) -> dict[str, Any]:
    """The config as plain nested dicts (YAML/JSON-safe)."""
    return dataclasses.asdict(config)


def save_config(config: Any, path: Path) -> None:
    """Write the resolved config as YAML (what `--config` reads back)."""
    path.write_text(yaml.safe_dump(config_to_dict(config), sort_keys=False))


def describe_fields(config_cls: type, prefix: str = "") -> list[tuple[str, str, Any, str]]:
    """(dotted key, type name, default, help) for every leaf field, for `--help`-style listings."""
    rows = []
    for f in dataclasses.fields(config_cls):
        hint = _hints(config_cls)[f.name]
        if dataclasses.is_dataclass(hint):
            rows += describe_fields(hint, prefix=f"{prefix}{f.name}.")
            continue
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        rows.append((prefix + f.name, _type_name(hint), default, f.metadata.get("help", "")))
    return rows


# ---- private helpers -------------------------------------------------------------


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"config file {str(path)!r} does not exist; pass an existing YAML file")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        line = getattr(getattr(error, "problem_mark", None), "line", -1) + 1
        raise ConfigError(
            f"config file {str(path)!r} is not valid YAML (line {line}); fix the syntax"
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {str(path)!r} must hold a mapping of field: value")
    return data


def flatten_mapping(mapping: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings -> {"dotted.key": value}."""
    flat: dict[str, Any] = {}
    for key, value in mapping.items():
        if isinstance(value, Mapping):
            flat.update(flatten_mapping(value, prefix=f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _merge(into: dict[str, Any], new: Mapping[str, Any]) -> None:
    into.update(new)


def parse_override(text: str) -> tuple[str, Any]:
    """ "key=value" -> (key, value parsed as a YAML scalar)."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set {text!r} is not key=value; write e.g. --set rounds=3")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key.strip(), value


def _hints(config_cls: type) -> dict[str, Any]:
    return typing.get_type_hints(config_cls)


def _check_key(config_cls: type, dotted: str) -> None:
    cls: Any = config_cls
    walked = []
    for part in dotted.split("."):
        if not dataclasses.is_dataclass(cls):
            raise ConfigError(
                f"config key {dotted!r}: {'.'.join(walked)!r} is a value, not a section"
            )
        names = [f.name for f in dataclasses.fields(cls)]
        if part not in names:
            choices = [".".join([*walked, n]) for n in names]
            hint = (
                did_you_mean(".".join([*walked, part]), choices)
                or f" (known: {', '.join(choices)})"
            )
            raise ConfigError(f"unknown config key {dotted!r}{hint}")
        walked.append(part)
        cls = _hints(cls)[part]


def _instantiate(config_cls: type[ConfigT], nested: Mapping[str, Any], prefix: str) -> ConfigT:
    kwargs: dict[str, Any] = {}
    hints = _hints(config_cls)
    for name, value in nested.items():
        hint = hints[name]
        if dataclasses.is_dataclass(hint):
            kwargs[name] = _instantiate(hint, value, prefix=f"{prefix}{name}.")  # type: ignore[arg-type]
        else:
            kwargs[name] = _coerce(value, hint, f"{prefix}{name}")
    try:
        return config_cls(**kwargs)
    except (ValueError, TypeError) as error:
        raise ConfigError(f"invalid config: {error}") from None


def _coerce(value: Any, hint: Any, key: str) -> Any:
    """Check `value` against the annotation `hint`; allow int->float and str->Path."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(hint):
            try:
                return _coerce(value, option, key)
            except ConfigError:
                continue
        raise _type_error(key, value, hint)
    if origin is typing.Literal:
        if value in typing.get_args(hint):
            return value
        choices = [str(c) for c in typing.get_args(hint)]
        raise ConfigError(
            f"config key {key!r}: {value!r} is not one of {choices}{did_you_mean(str(value), choices)}"
        )
    if origin in (list, tuple):
        if not isinstance(value, list | tuple):
            raise _type_error(key, value, hint)
        (item_hint, *_) = typing.get_args(hint) or (Any,)
        items = [_coerce(v, item_hint, key) for v in value]
        return items if origin is list else tuple(items)
    return _coerce_scalar(value, hint, key)


def _coerce_scalar(value: Any, hint: Any, key: str) -> Any:
    if hint is Any:
        return value
    if hint is type(None):
        if value is None:
            return None
        raise _type_error(key, value, hint)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is Path and isinstance(value, str):
        return Path(value)
    if hint is str and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if (
        isinstance(hint, type)
        and isinstance(value, hint)
        and not (hint is int and isinstance(value, bool))
    ):
        return value
    raise _type_error(key, value, hint)


def _type_error(key: str, value: Any, hint: Any) -> ConfigError:
    return ConfigError(
        f"config key {key!r} expects {_type_name(hint)}, got {value!r} ({type(value).__name__})"
    )


def _type_name(hint: Any) -> str:
    if isinstance(hint, type):
        return hint.__name__
    return str(hint).replace("typing.", "")
