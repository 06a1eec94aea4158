"""The one config loader of RecAgora: typed dataclasses <- YAML <- command line.

Used by `recagora run` (scenario configs, via `experiments.runner.config`, which
re-exports this module) and by `recagora train|evaluate` (trainer configs). It lives
on this floor because training may not import experiments, and experiments may
import training.

Precedence (the one place it is written down): field defaults < `--config file.yaml`
< explicit command-line flags (`--users 8`) < `--set key=value` overrides, applied
in that order. Nested configs are addressed with dots (`--set trirec.alpha_max=0.5`,
or a `trirec:` mapping in YAML). A key that does not exist, a value of the wrong
type, a section given a scalar, or a file that is not YAML raises `ConfigError`
with one line naming the key (and the closest match).

Every config field is declared as `field(default=..., metadata={"help": "..."})`
(the convention of Hugging Face TRL's trainer configs) so `describe_fields` can print it.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml

from recagora.item_space.errors import ConfigError, did_you_mean

ConfigT = TypeVar("ConfigT")
# A config file is a few KB; a bigger one is a wrong path (a dataset, a checkpoint).
MAX_CONFIG_BYTES = 1 << 20


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
        values.update(flatten_checked(config_cls, read_yaml(Path(yaml_path))))
    values.update({k: v for k, v in (flags or {}).items() if v is not None})
    values.update(dict(parse_override(text) for text in overrides))
    return build_config(config_cls, values)


def build_config(config_cls: type[ConfigT], flat_values: Mapping[str, Any]) -> ConfigT:
    """Instantiate `config_cls` from dotted key -> value pairs (checked and coerced)."""
    nested: dict[str, Any] = {}
    for dotted, value in flat_values.items():
        _check_key(config_cls, dotted)
        cursor = nested
        *parents, leaf = dotted.split(".")
        for depth, part in enumerate(parents):
            cursor = cursor.setdefault(part, {})
            if not isinstance(cursor, dict):  # `--set inner=5 --set inner.alpha=1`
                raise _section_error(".".join(parents[: depth + 1]), cursor)
        if isinstance(cursor.get(leaf), dict) and not isinstance(value, Mapping):
            raise _section_error(dotted, value)
        cursor[leaf] = value
    return _instantiate(config_cls, nested, prefix="")


def from_dict(config_cls: type[ConfigT], values: Mapping[str, Any]) -> ConfigT:
    """Instantiate `config_cls` from a nested mapping (a saved config.yaml or policy.json)."""
    if not isinstance(values, Mapping):
        raise ConfigError(f"a {config_cls.__name__} must be a mapping of field: value")
    return build_config(config_cls, flatten_checked(config_cls, values))


def with_overrides(config: ConfigT, overrides: Iterable[str]) -> ConfigT:
    """A copy of `config` with "dotted.key=value" overrides applied (checked like `--set`)."""
    flat = flatten_mapping(config_to_dict(config))
    flat.update(dict(parse_override(text) for text in overrides))
    return build_config(type(config), flat)


def config_to_dict(config: Any) -> dict[str, Any]:
    """The config as plain nested dicts (YAML/JSON-safe)."""
    return dataclasses.asdict(config)


to_dict = config_to_dict  # the name training's modules use


def save_config(config: Any, path: Path) -> None:
    """Write the resolved config as YAML (what `--config` reads back)."""
    Path(path).write_text(yaml.safe_dump(config_to_dict(config), sort_keys=False))


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


def read_yaml(path: Path) -> dict[str, Any]:
    """The mapping in a YAML config file (ConfigError: missing, unreadable, binary, not a mapping)."""
    name = repr(str(path))
    if not path.is_file():
        raise ConfigError(f"config file {name} does not exist; pass an existing YAML file")
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise ConfigError(
                f"config file {name} is over {MAX_CONFIG_BYTES >> 20} MiB; is it a config?"
            )
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as error:
        raise ConfigError(f"config file {name} cannot be read ({error.strerror})") from None
    except UnicodeDecodeError:
        raise ConfigError(
            f"config file {name} is not text (binary content); pass a YAML file"
        ) from None
    except yaml.YAMLError as error:
        line = getattr(getattr(error, "problem_mark", None), "line", -1) + 1
        raise ConfigError(
            f"config file {name} is not valid YAML (line {line}); fix the syntax"
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {name} must hold a mapping of field: value")
    return data


def flatten_checked(
    config_cls: type, mapping: Mapping[Any, Any], prefix: str = ""
) -> dict[str, Any]:
    """{"dotted.key": value} from a nested mapping, checking each key against `config_cls`.

    Walks the dataclass, not the mapping: an unknown key fails at once, and a YAML
    alias bomb (a mapping that refers to itself many times) is never expanded.
    """
    flat: dict[str, Any] = {}
    for key, value in mapping.items():
        dotted = f"{prefix}{key}"
        if not isinstance(key, str):
            raise ConfigError(f"config key {dotted!r} is not a name; keys are field names (text)")
        hint = _check_key(config_cls, dotted)
        if not dataclasses.is_dataclass(hint):
            flat[dotted] = value
        elif isinstance(value, Mapping):
            flat.update(flatten_checked(config_cls, value, prefix=f"{dotted}."))
        else:
            raise _section_error(dotted, value)
    return flat


def flatten_mapping(mapping: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings -> {"dotted.key": value} (no checks; for configs already built)."""
    flat: dict[str, Any] = {}
    for key, value in mapping.items():
        if isinstance(value, Mapping):
            flat.update(flatten_mapping(value, prefix=f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


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


# ---- private helpers -------------------------------------------------------------


def _hints(config_cls: type) -> dict[str, Any]:
    return typing.get_type_hints(config_cls)


def _section_error(dotted: str, value: Any) -> ConfigError:
    shown = repr(value) if len(repr(value)) < 60 else f"a {type(value).__name__}"
    return ConfigError(
        f"config key {dotted!r} is a section, got {shown}; give a mapping of its fields "
        f"(YAML `{dotted.rsplit('.', 1)[-1]}:` then indented keys, or --set {dotted}.FIELD=...)"
    )


def _check_key(config_cls: type, dotted: str) -> Any:
    """The annotation of the field at `dotted` (ConfigError naming the closest key if none)."""
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
    return cls


def _instantiate(config_cls: type[ConfigT], nested: Mapping[str, Any], prefix: str) -> ConfigT:
    kwargs: dict[str, Any] = {}
    hints = _hints(config_cls)
    for name, value in nested.items():
        hint = hints[name]
        if not dataclasses.is_dataclass(hint):
            kwargs[name] = _coerce(value, hint, f"{prefix}{name}")
        elif isinstance(value, Mapping):
            kwargs[name] = _instantiate(hint, value, prefix=f"{prefix}{name}.")  # type: ignore[arg-type]
        else:
            raise _section_error(f"{prefix}{name}", value)
    try:
        return config_cls(**kwargs)
    # ArithmeticError: a check that divides by a field given as 0, e.g. a batch size.
    except (ValueError, TypeError, ArithmeticError) as error:
        raise ConfigError(f"invalid config{' ' + prefix[:-1] if prefix else ''}: {error}") from None


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
    if origin is dict:
        if not isinstance(value, Mapping):
            raise _type_error(key, value, hint)
        return dict(value)
    return _coerce_scalar(value, hint, key)


_FLOAT_LITERAL = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def _coerce_scalar(value: Any, hint: Any, key: str) -> Any:
    if hint is Any:
        return value
    if hint is type(None):
        if value is None:
            return None
        raise _type_error(key, value, hint)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is float and isinstance(value, str) and _FLOAT_LITERAL.fullmatch(value.strip()):
        # PyYAML follows YAML 1.1, where a float needs a dot: `1e-3` loads as a string.
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
    shown = repr(value) if len(repr(value)) < 60 else repr(value)[:57] + "..."
    return ConfigError(
        f"config key {key!r} expects {_type_name(hint)}, got {shown} ({type(value).__name__})"
    )


def _type_name(hint: Any) -> str:
    if isinstance(hint, type):
        return hint.__name__
    return str(hint).replace("typing.", "")
