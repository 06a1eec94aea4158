"""Validation helpers shared by the scenarios' config dataclasses.

Role specs ("user=surrogate,item=llm") are parsed by the one agent registry,
`recagora.agents.registry.parse_agent_spec`.
"""

from __future__ import annotations

from recagora.item_space.errors import ConfigError

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
