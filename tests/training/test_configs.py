"""The one config loader: numeric strings that YAML 1.1 leaves as text."""

from pathlib import Path

import pytest

from recagora.item_space.errors import ConfigError
from recagora.training.configs import load_config, with_overrides
from recagora.training.sft_config import SFTConfig


def test_exponent_without_dot_is_a_float_from_set():
    """PyYAML reads `1e-3` as a string (YAML 1.1 wants a dot); a float field takes it."""
    config = with_overrides(SFTConfig(), ["learning_rate=1e-3"])
    assert config.learning_rate == pytest.approx(0.001)
    assert isinstance(config.learning_rate, float)


def test_exponent_without_dot_is_a_float_from_yaml(tmp_path: Path):
    path = tmp_path / "c.yaml"
    path.write_text("learning_rate: 5e-4\n")
    assert load_config(SFTConfig, path).learning_rate == pytest.approx(5e-4)


def test_words_stay_refused_for_a_float():
    with pytest.raises(ConfigError, match="learning_rate"):
        with_overrides(SFTConfig(), ["learning_rate=fast"])
