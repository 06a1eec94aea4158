"""Validation helpers shared by the scenarios' config dataclasses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from recagora.item_space.errors import ConfigError, did_you_mean

# What each registered dataset's catalog holds, as the agents' prompts name it.
DATASET_DOMAINS = {
    "ml-100k": "movies",
    "video-games": "video games",
    "games-semids": "video games",
    "cds-vinyl": "CDs and vinyl records",
}


def domain_of(dataset: str) -> str:
    """The prompts' name for a dataset's items ("items" for an unregistered path)."""
    return DATASET_DOMAINS.get(dataset, "items")


def require(condition: bool, message: str) -> None:
    """Raise a one-line `ConfigError(message)` unless `condition` holds."""
    if not condition:
        raise ConfigError(message)


def parse_role_spec(spec: str, role_kinds: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """{role: kind} from 'role=kind,...'; roles left out take their first listed kind.

    role_kinds: every role of the scenario -> its allowed kinds, default first.
    """
    roles = {name: kinds[0] for name, kinds in role_kinds.items()}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, _, kind = part.partition("=")
        require(
            name in role_kinds,
            f"unknown role {name!r} in agents{did_you_mean(name, role_kinds)}; "
            f"roles: {', '.join(role_kinds)}",
        )
        kinds = role_kinds[name]
        require(
            kind in kinds,
            f"{name}={kind!r} is unknown{did_you_mean(kind, kinds)}; use one of {', '.join(kinds)}",
        )
        roles[name] = kind
    return roles
