"""File 1 of 5: the scenario's config, one typed field per knob, each with a help line.

The runner needs `scenario` (the registry name) and `seed`; `rounds` sizes the live
display. `--set field=value` and YAML files fill the rest (`recagora runs fields`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from minimal_scenario import agents  # noqa: F401  (registers the roles `agents` names)

from recagora.agents.registry import parse_agent_spec
from recagora.environments.config_checks import require

# The shop's roles and their default implementations (registered in agents.py).
DEFAULT_AGENTS = "shelf=popular,shopper=surrogate"


@dataclass
class ShopConfig:
    """A shelf recommends `shelf_size` of the `items` most-rated movies to sampled real users."""

    scenario: str = field(default="minimal-shop", metadata={"help": "Scenario name (registry id)."})
    dataset: str = field(
        default="ml-100k", metadata={"help": "Dataset with ratings (read in place, never copied)."}
    )
    agents: str = field(
        default=DEFAULT_AGENTS,
        metadata={"help": "Implementation per role: shelf=popular|random,shopper=surrogate."},
    )
    items: int = field(default=50, metadata={"help": "Catalog: the dataset's most-rated items."})
    users: int = field(default=100, metadata={"help": "Shoppers: real users sampled (seeded)."})
    shelf_size: int = field(default=5, metadata={"help": "Items the shelf shows per round."})
    like_rating: float = field(
        default=4.0, metadata={"help": "A real rating at least this marks an item the user likes."}
    )
    patience: float = field(
        default=0.7,
        metadata={
            "help": "Chance a shopper looks one slot further down the shelf (position bias)."
        },
    )
    rounds: int = field(default=3, metadata={"help": "Rounds (shopping days) played."})
    seed: int = field(default=0, metadata={"help": "Root seed of every random draw."})

    def __post_init__(self) -> None:
        require(self.items >= 2, f"items must be >= 2, got {self.items}")
        require(self.users >= 1, f"users must be >= 1, got {self.users}")
        require(
            1 <= self.shelf_size <= self.items,
            f"shelf_size must be in 1..items ({self.items}), got {self.shelf_size}",
        )
        require(0.0 <= self.patience <= 1.0, f"patience must be in [0, 1], got {self.patience}")
        require(self.rounds >= 1, f"rounds must be >= 1, got {self.rounds}")
        require(self.seed >= 0, f"seed must be a non-negative integer, got {self.seed}")
        parse_agent_spec(self.agents, DEFAULT_AGENTS)  # unknown role/impl: one-line error
