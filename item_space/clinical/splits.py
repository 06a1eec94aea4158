"""Patient-level splits: every visit of a patient lands on one side (FLAME's code split by row
order, which lets a patient's visits straddle train and test; this does not)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from recagora.item_space.clinical.visits import Visit
from recagora.item_space.errors import DatasetError


def patient_split(
    visits: Sequence[Visit], ratios: tuple[float, float, float] = (4, 1, 1), seed: int = 0
) -> tuple[list[int], list[int], list[int]]:
    """Visit indices of (train, valid, test), patients shuffled by `seed` and cut by `ratios`."""
    if len(ratios) != 3 or min(ratios) < 0 or sum(ratios) <= 0:
        raise DatasetError(f"split ratios must be three non-negative numbers, got {ratios}")
    patients = sorted({v.patient for v in visits})
    needed = sum(r > 0 for r in ratios)
    if len(patients) < needed:
        raise DatasetError(
            f"{len(patients)} patient(s) cannot fill {needed} splits without one patient on two sides"
        )
    order = np.random.default_rng(seed).permutation(len(patients))
    cuts = np.floor(np.cumsum(ratios)[:2] / sum(ratios) * len(patients)).astype(int)
    side = {
        patients[p]: int(np.searchsorted(cuts, rank, side="right")) for rank, p in enumerate(order)
    }
    parts: tuple[list[int], list[int], list[int]] = ([], [], [])
    for index, visit in enumerate(visits):
        parts[side[visit.patient]].append(index)
    check_patient_disjoint(visits, parts)
    return parts


def check_patient_disjoint(visits: Sequence[Visit], parts: Sequence[Sequence[int]]) -> None:
    """DatasetError naming a patient whose visits sit in two parts."""
    seen: dict[str, int] = {}
    for number, part in enumerate(parts):
        for index in part:
            patient = visits[index].patient
            if seen.setdefault(patient, number) != number:
                raise DatasetError(
                    f"patient {patient} has visits in two splits ({seen[patient]} and {number})"
                )
