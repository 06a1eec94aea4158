"""A minimal scenario, "minimal-shop": popularity vs random shelves for real ml-100k users.

Each round a shelf (the recommender role: `popular` or `random`) shows every user
`shelf_size` of the 50 most-rated ml-100k movies; a surrogate shopper looks down the
shelf with position bias and buys the first movie its real user rated >= 4. Metrics:
buy rate, liked share, catalog coverage, popularity of what is shown.

    cd examples && python -m minimal_scenario.scenario agents=shelf=random rounds=5

A NEW SCENARIO NEEDS THESE FILES (five here, nothing else in the repo changes):
  1. config.py     the config dataclass (`scenario`, `seed`, `rounds`, a help line per field)
  2. agents.py     its roles' implementations + `register_agent` (skip it when the
                   scenario reuses registered roles)
  3. graph.py      state (TypedDict, `events: RoundEvents`), run-scoped context, nodes,
                   `build_round_cycle`; the last node hands each round to `ctx.sink`
  4. scenario.py   `prepare(config, services) -> Episode`, the `ScenarioSpec` (node
                   contracts, metric list: plotted / shown live / compared by sweeps)
                   and `register_scenario(SPEC)`
  5. a test        `check_scenario(SPEC, tiny config)` and one `start_run` through the
                   real runner (tests/examples/test_minimal_scenario.py)
Importing the module registers it, so the CLI runs it once told where it is:
    cd examples && RECAGORA_SCENARIOS=minimal_scenario.scenario recagora run minimal-shop
(an installed package declares an entry point in the group `recagora.scenarios` instead);
a scenario shipped inside the package adds one line to `environments/registry.py`.
"""

from __future__ import annotations

import sys

import numpy as np
from minimal_scenario.config import DEFAULT_AGENTS, ShopConfig
from minimal_scenario.graph import ShopContext, ShopState, build_shop_graph

from recagora.agents.registry import parse_agent_spec, resolve
from recagora.environments.registry import register_scenario
from recagora.environments.scenario import (
    Episode,
    MetricSpec,
    NodeContract,
    RunServices,
    ScenarioSpec,
    stage_rng,
)
from recagora.item_space.errors import DatasetError, RecAgoraError


def prepare_shop(config: ShopConfig, services: RunServices) -> Episode:
    """Catalog, shoppers and roles; `services.extras["dataset"]` may hold a loaded dataset."""
    from recagora.item_space.datasets import load_dataset

    dataset = services.extras.get("dataset") or load_dataset(config.dataset)
    items, liked, users, popularity = _world(dataset, config)
    mix = parse_agent_spec(config.agents, DEFAULT_AGENTS)
    context = ShopContext(
        config=config,
        users=users,
        titles=tuple(dataset.catalog[int(i)].title for i in items),
        liked=liked,
        popularity=popularity,
        shelf=resolve("shelf", mix["shelf"])(popularity),
        shopper=resolve("shopper", mix["shopper"])(config.patience),
        sink=services.sink,
    )
    state = {"round": 0, "owned": np.zeros(liked.shape, bool), "events": [], "done": False}
    info = {"items": len(items), "users": len(users), "agents": mix.versions()}
    return Episode(context, state, info=info)


def _world(dataset, config: ShopConfig) -> tuple:
    """(items (N,), liked (U, N) bool, users (U,), popularity (N,)) from real ratings."""
    if dataset.interactions is None:
        raise DatasetError(f"{config.dataset}: the shop needs a dataset with rating events")
    frame = dataset.interactions.frame
    counts = frame["item"].value_counts(sort=False)
    items = counts.index.to_numpy()[np.lexsort((counts.index, -counts.to_numpy()))]
    items = items[: config.items]
    kept = frame[frame["item"].isin(items)]
    if len(items) < 2 or kept.empty:
        raise DatasetError(f"{config.dataset}: need at least 2 rated items for the shop")
    column = {int(item): j for j, item in enumerate(items)}
    users = sorted(kept["user"].unique())
    chosen = stage_rng(config.seed, 0, "setup.users").choice(
        len(users), size=min(config.users, len(users)), replace=False
    )
    users = tuple(users[i] for i in np.sort(chosen))
    row = {user: u for u, user in enumerate(users)}
    likes = kept[kept["user"].isin(row) & (kept["rating"].fillna(np.inf) >= config.like_rating)]
    liked = np.zeros((len(users), len(items)), bool)
    liked[likes["user"].map(row).to_numpy(), likes["item"].map(column).to_numpy()] = True
    popularity = np.bincount(kept["item"].map(column), minlength=len(items)).astype(np.float64)
    return items, liked, users, popularity


SPEC = register_scenario(
    ScenarioSpec(
        name="minimal-shop",
        version="minimal-shop-v0",
        description="Example: popularity vs random shelves for surrogate shoppers over real ml-100k ratings.",
        config_cls=ShopConfig,
        build_graph=build_shop_graph,
        prepare=prepare_shop,
        state_schema=ShopState,
        nodes={
            "show": NodeContract(reads=("round", "owned"), writes=("slates", "events")),
            "shop": NodeContract(
                reads=("round", "owned", "slates", "events"), writes=("owned", "round", "done")
            ),
        },
        metrics=(
            MetricSpec("active_users", "Shoppers", sweep=False),
            MetricSpec("buy_rate", "Share of shoppers who bought", plot=True),
            MetricSpec("liked_share", "Share of shown movies the shopper likes", plot=True),
            MetricSpec("coverage", "Share of the catalog shown", plot=True),
            MetricSpec("shown_popularity", "Mean ratings of a shown movie"),
        ),
    )
)


if __name__ == "__main__":
    from recagora.experiments.runner.config import load_config
    from recagora.experiments.runner.runner import start_run

    try:
        config = load_config(ShopConfig, None, {}, sys.argv[1:])  # key=value overrides
        result = start_run(config, runs_dir="runs")
    except RecAgoraError as error:
        sys.exit(f"error: {error}")  # one line, exit code 1
    print(result.folder.path, result.summary["overall"])
