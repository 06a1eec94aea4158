"""A saved SELLER run as the `explainer=seller` role: reload, explain shown items, cache."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
import torch

from recagora.item_space.errors import ModelError
from recagora.item_space.types import Catalog, Item
from recagora.training.seller.config import SellerConfig
from recagora.training.seller.explainer import SellerExplainer, load_seller, user_timestamps
from recagora.training.seller.model import SellerModel

from ..soft_lm_fixture import tiny_lm
from .test_seller import VOCAB


class FixedEmbedder:
    """Seeded 8-d vectors per text (stands in for MiniLM)."""

    def embed(self, texts):
        return np.stack([np.random.default_rng(len(t)).standard_normal(8) for t in texts]).astype(np.float32)


@pytest.fixture
def catalog():
    genres = [("Comedy",), ("Drama",), ("Action", "Comedy"), ("Drama", "Action")]
    return Catalog("toy", [Item(id=i, key=str(i), title=f"m{i}", categories=g, attributes={"release_year": "1995"})
                           for i, g in enumerate(genres)])


def _saved_run(tmp_path, catalog):
    from recagora.training.seller.run import item_texts

    cfg = SellerConfig(max_history=4, seq_dim=16, seq_layers=1, soft_tokens=2, max_new_tokens=5)
    torch.manual_seed(0)
    item_text = torch.from_numpy(FixedEmbedder().embed(item_texts(catalog)))
    model = SellerModel(*tiny_lm(vocab_words=VOCAB), item_text, cfg).eval()
    torch.save({"config": vars(cfg), "state": model.trainable_state()}, tmp_path / "seller.pt")
    return model, cfg


def test_a_reloaded_run_explains_like_the_trained_model_and_caches_per_user_and_item(tmp_path, catalog):
    trained, cfg = _saved_run(tmp_path, catalog)
    model, loaded_cfg = load_seller(tmp_path, catalog, FixedEmbedder(), lm=tiny_lm(vocab_words=VOCAB))
    assert loaded_cfg.soft_tokens == 2
    stamps = {"u": {0: 0, 1: 3600, 2: 7200}}
    explainer = SellerExplainer(type("F", (), {"catalog": catalog})(), tmp_path, stamps, model=model, cfg=cfg)
    shown = np.array([[3, 1]])
    texts = asyncio.run(explainer.explain(["u"], [(0, 1, 2)], shown))
    pair = explainer._pair("u", (0, 1, 2), 3)
    assert pair.gaps == [3600, 3600, 0] and pair.history == [0, 1, 2]
    from recagora.training.seller.data import collate

    expected = trained.explain(collate([pair], cfg.max_history), ["m3"], cfg.max_new_tokens)
    assert texts[0][0] == expected[0] and len(texts[0]) == 2
    explainer.model = None  # a second request for the same pairs never reaches the model
    assert asyncio.run(explainer.explain(["u"], [(0, 1, 2)], shown)) == texts


def test_a_missing_run_is_a_one_line_model_error(tmp_path, catalog):
    with pytest.raises(ModelError, match="no SELLER model at .*recagora train seller") as caught:
        load_seller(tmp_path, catalog, FixedEmbedder())
    assert "\n" not in str(caught.value)


def test_user_timestamps_keep_each_items_first_event():
    import pandas as pd

    frame = pd.DataFrame({"user": [1, 1, 2], "item": [5, 6, 5], "timestamp": [10, 20, 30]})
    dataset = type("D", (), {"interactions": type("I", (), {"frame": frame})()})()
    assert user_timestamps(dataset) == {"1": {5: 10, 6: 20}, "2": {5: 30}}
