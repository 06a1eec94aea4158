"""Shared scenario-config validation: one-line errors (role specs: tests/agents/test_registry.py)."""

import pytest

from recagora.environments.config_checks import require
from recagora.item_space.errors import ConfigError, RecAgoraError


def test_require_raises_only_when_false():
    require(True, "never shown")
    with pytest.raises(ConfigError, match="^k must be >= 1$"):
        require(False, "k must be >= 1")


def test_trirec_prompts_name_the_datasets_items_unless_told_otherwise():
    from recagora.agents.roles.item_memory import ItemAgentConfig
    from recagora.environments.trirec.config import TrirecConfig

    cds = TrirecConfig(dataset="cds-vinyl")
    assert cds.domain == cds.item.domain == cds.llm_user.domain == "CDs and vinyl records"
    assert TrirecConfig().item.domain == "movies"  # ml-100k, the default dataset
    told = TrirecConfig(dataset="cds-vinyl", item=ItemAgentConfig(domain="records"))
    assert told.item.domain == "records" and told.llm_user.domain == "CDs and vinyl records"
    assert TrirecConfig(dataset="/data/my-catalog").domain == "items"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("item.mode=personalised", "did you mean 'personalized'"),
        ("platform.trirec.alpha_max=1.5", "alpha_max"),
        ("platform.n_candidates=1", "n_candidates must be in 2..100"),
    ],
)
def test_trirec_nested_settings_are_refused_with_one_line_errors(override, message):
    from recagora.environments.trirec.config import TrirecConfig
    from recagora.experiments.runner.config import load_config

    with pytest.raises(RecAgoraError, match=message):
        load_config(TrirecConfig, None, {}, [override])
