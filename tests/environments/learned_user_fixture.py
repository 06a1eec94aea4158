"""A one-epoch learned user for scenario tests (imported by name: conftest puts this folder on sys.path)."""

from __future__ import annotations


def small_learned_user(dataset, space, split: str = "auto", max_history: int = 10):
    """The default (learned) user fitted on a one-epoch budget, for tests of a scenario's
    wiring rather than of the fit; the split and item facts are the ones `prepare` builds."""
    from recagora.agents.learned_user.fit import fit_learned_user
    from recagora.agents.learned_user.model import LearnedUserConfig
    from recagora.agents.learned_user.train import TrainConfig
    from recagora.agents.roles.base import ItemFacts

    dataset.catalog.vectors = space.catalog.vectors
    parts = dataset.split(split, max_history=max_history)
    facts = ItemFacts.from_catalog(
        dataset.catalog, parts.train_interactions.item_counts(len(dataset.catalog))
    )
    small = LearnedUserConfig(train=TrainConfig(max_epochs=1), max_valid_samples=500)
    return fit_learned_user(facts, parts, config=small, show_progress=False)
