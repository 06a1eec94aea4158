"""Clinical data for medication-list recommendation (FLAME-style): visits, drugs, interactions, splits."""

from recagora.item_space.clinical.interactions import InteractionGraph, build_interaction_graph
from recagora.item_space.clinical.splits import patient_split
from recagora.item_space.clinical.visits import ClinicalData, Visit, load_visits

__all__ = [
    "ClinicalData",
    "InteractionGraph",
    "Visit",
    "build_interaction_graph",
    "load_visits",
    "patient_split",
]
