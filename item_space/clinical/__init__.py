"""Clinical data for medication-list recommendation (FLAME-style): visits, drugs, interactions, splits."""

from recagora.item_space.clinical.interactions import InteractionGraph, build_interaction_graph
from recagora.item_space.clinical.splits import patient_split
from recagora.item_space.clinical.visits import ClinicalData, Visit, load_visits

__all__ = [
    "OPEN_DATA",
    "ClinicalData",
    "InteractionGraph",
    "Visit",
    "build_interaction_graph",
    "clinical_path",
    "load_visits",
    "patient_split",
]


# Open clinical data under the shared data folder, by name (a path is used as it is).
OPEN_DATA = {
    "mimic-iv-demo": "clinical/mimic-iv-demo-2.2",
    "mimic-iii-demo": "clinical/mimic-iii-demo-1.4",
    "synthea": "clinical/synthea-dbt-27pt",
    "crescenddi": "clinical/crescenddi/positive_controls.csv",
}


def clinical_path(name: str):
    """The folder or file an open-data name (OPEN_DATA) or a path names; missing open data is
    DatasetMissingError (tests skip on it)."""
    from pathlib import Path

    from recagora.item_space.datasets import shared_data_dir
    from recagora.item_space.errors import DatasetMissingError

    if name not in OPEN_DATA:
        return Path(name).expanduser()
    path = shared_data_dir() / OPEN_DATA[name]
    if not path.exists():
        raise DatasetMissingError(
            f"{name} not found at {path} (set RECAGORA_SHARED_DATA, or pass a path to the files)"
        )
    return path
