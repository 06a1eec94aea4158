"""When a simulated user leaves the platform: a satisfaction + patience model shared by every user agent.

After each round a user reports q_t in [0, 1] (the surrogate: its probability of finding
something worth consuming in the slate; the LLM user: its 0-10 satisfaction / 10). Then

    s_t = (1 - eta) * s_{t-1} + eta * q_t                       (exponential smoothing)
    P(leave) = leave_scale * max(0, (threshold - s_t) / threshold)
    leave for sure after `patience` consecutive rounds without consuming anything.

The smoothed-satisfaction-with-exit form follows the user-retention simulators of
RecSim (Ie et al., 2019, "interest evolution": a session ends when the user's time budget,
drained by unsatisfying slates, runs out) and KuaiSim (Zhao et al., 2023, leave module);
the parameters are not fitted to data (no public log records exits): they are config.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from recagora.agents.roles.base import Responses, UserCohort


@dataclass(frozen=True)
class PatienceConfig:
    """Satisfaction smoothing and the exit rule."""

    smoothing: float = field(
        default=0.5,
        metadata={"help": "eta: weight of this round's satisfaction in the running satisfaction."},
    )
    threshold: float = field(
        default=0.3,
        metadata={"help": "Running satisfaction below which a user may leave, in [0, 1]."},
    )
    leave_scale: float = field(
        default=0.5, metadata={"help": "P(leave) when the running satisfaction is 0."}
    )
    patience: int = field(
        default=3,
        metadata={
            "help": "Consecutive rounds without consumption after which a user leaves; 0 = never."
        },
    )

    def __post_init__(self) -> None:
        for name in ("smoothing", "threshold", "leave_scale"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")


def update_patience(
    cohort: UserCohort,
    idx: np.ndarray,
    responses: Responses,
    config: PatienceConfig,
    rng: np.random.Generator,
) -> tuple[UserCohort, np.ndarray]:
    """A new cohort with satisfaction, idle rounds and `active` updated; and (m,) bool who left."""
    satisfaction = cohort.satisfaction.copy()
    idle = cohort.idle_rounds.copy()
    active = cohort.active.copy()
    running = (1 - config.smoothing) * satisfaction[
        idx
    ] + config.smoothing * responses.round_satisfaction
    idle_now = np.where(responses.chosen >= 0, 0, idle[idx] + 1)
    shortfall = np.maximum(0.0, (config.threshold - running) / max(config.threshold, 1e-12))
    leaves = rng.random(len(idx)) < config.leave_scale * shortfall
    if config.patience > 0:
        leaves |= idle_now >= config.patience
    satisfaction[idx], idle[idx] = running, idle_now
    active[idx] = active[idx] & ~leaves
    return replace(cohort, satisfaction=satisfaction, idle_rounds=idle, active=active), leaves
