"""The fidelity suite (floor 1): how real are simulated users, measured on held-out data.

    from recagora.item_space.fidelity import SuiteConfig, run_suite
    report = run_suite(dataset, dataset.split("loo"), {"learned": build}, SuiteConfig(seed=0))

`run_suite` takes user-model FACTORIES (split -> `UserModel`), builds the held-out
protocols once, and scores each model and the random and popularity baselines; `report`
turns the result into the leaderboard, CSV and JSON, `plots` into PNGs.
"""

from recagora.item_space.fidelity.baselines import PopularityUserModel, RandomUserModel
from recagora.item_space.fidelity.heldout import FidelityError, HeldOut, build_heldout
from recagora.item_space.fidelity.suite import SuiteConfig, build_protocols, run_suite

__all__ = [
    "FidelityError",
    "HeldOut",
    "PopularityUserModel",
    "RandomUserModel",
    "SuiteConfig",
    "build_heldout",
    "build_protocols",
    "run_suite",
]
