"""Diffusion beam search: exact on a tiny catalog, and never outside the catalog."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from recagora.item_space.errors import ConfigError
from recagora.training.mindrec.model import MindRecModel
from recagora.training.mindrec.search import (
    Postings,
    _first_by_key,
    _first_by_rows,
    check_beams,
    diffusion_beam_search,
)


def _model(codes: np.ndarray, seed: int, vocab: int | None = None) -> MindRecModel:
    torch.manual_seed(seed)
    vocab = vocab or int(codes.max()) + 1
    model = MindRecModel(torch.as_tensor(codes), vocab, 4, d_model=16, n_layers=1, n_heads=2)
    return model.eval()


def _search(model, codes, n_category, history, beams, diversity=0.0):
    vocab = model.vocab_size
    with torch.no_grad():
        return diffusion_beam_search(
            model,
            history,
            Postings(torch.as_tensor(codes), vocab, n_category),
            n_category,
            vocab,
            beams,
            diversity,
        )


def _exhaustive(model, codes, n_category, history):
    """Every unit's best score over every fill order of its ID slots (categories in order)."""
    mask = model.vocab_size
    n_slots = codes.shape[1]
    rows = sorted({tuple(r) for r in codes.tolist()})
    best = {}
    for row in rows:
        for order in itertools.permutations(range(n_category, n_slots)):
            answer, total = [mask] * n_slots, 0.0
            for slot in [*range(n_category), *order]:
                agree = [
                    c
                    for c in codes.tolist()
                    if all(a in (mask, x) for a, x in zip(answer, c, strict=True))
                ]
                allowed = sorted({c[slot] for c in agree})
                with torch.no_grad():
                    logits = model(history, torch.tensor([answer]))[0, slot]
                total += torch.log_softmax(logits[allowed], 0)[allowed.index(row[slot])].item()
                answer[slot] = row[slot]
            best[row] = max(best.get(row, -np.inf), total)
    lowest = {}
    for item, row in enumerate(codes.tolist()):
        lowest.setdefault(tuple(row), item)
    return sorted(((score, lowest[row]) for row, score in best.items()), reverse=True)


def _grid(n_category_paths: list[tuple[int, ...]], sizes: tuple[int, ...]) -> np.ndarray:
    """Each category path crossed with a full grid of ID codes (distinct ids per slot)."""
    offset = 1 + max(max(p) for p in n_category_paths) if n_category_paths[0] else 0
    slots = []
    for size in sizes:
        slots.append(range(offset, offset + size))
        offset += size
    return np.array([(*p, *ids) for p in n_category_paths for ids in itertools.product(*slots)])


@pytest.mark.parametrize(
    ("paths", "sizes", "seed"),
    [
        ([(0,), (1,)], (2, 3), 0),  # one category level, 12 items
        ([(0, 2), (0, 3), (1, 2), (1, 4)], (2, 2), 1),  # two levels, 16 items
        ([()], (3, 3), 2),  # no category phase (LETTER-LLaDA), 9 items
    ],
)
def test_beam_search_equals_exhaustive_search_when_every_state_fits(paths, sizes, seed):
    # With B = catalog size every partial answer of these grids fits in the beam at every
    # step, so the search must find every item with its best fill order's score.
    codes = _grid(paths, sizes)
    n_category = len(paths[0])
    model = _model(codes, seed)
    history = torch.tensor([[0, 3, -1, 5][: codes.shape[0]]]).clamp(max=len(codes) - 1)
    result = _search(model, codes, n_category, history, len(codes))
    expected = _exhaustive(model, codes, n_category, history)
    assert result.items[0].tolist() == [item for _, item in expected]
    np.testing.assert_allclose(result.scores[0].numpy(), [s for s, _ in expected], atol=1e-5)
    assert result.invalid == 0


def test_a_narrow_beam_returns_the_exhaustive_top_items_on_a_tiny_catalog():
    codes = _grid([(0,), (1,)], (2, 3))
    model = _model(codes, 3)
    history = torch.tensor([[1, 2]])
    expected = _exhaustive(model, codes, 1, history)
    result = _search(model, codes, 1, history, 4)
    found = result.items[0].tolist()
    # A beam of 4 may reach an item by a worse fill order, never score it above its best
    # order; on this catalog and seed it still finds the best item first.
    assert found[0] == expected[0][1]
    scores = {item: score for score, item in expected}
    for item, score in zip(found, result.scores[0].tolist(), strict=True):
        if item >= 0:
            assert score <= scores[item] + 1e-5


@pytest.mark.parametrize("seed", range(12))
def test_the_trie_never_yields_an_item_outside_the_catalog(seed):
    rng = np.random.default_rng(seed)
    n_category, n_id = int(rng.integers(0, 3)), int(rng.integers(2, 4))
    n_items = int(rng.integers(5, 60))
    # Small alphabets per slot: many per-position combinations are NOT catalog items.
    alphabet = [int(rng.integers(2, 5)) for _ in range(n_category + n_id)]
    offsets = np.cumsum([0, *alphabet[:-1]])
    codes = np.stack(
        [rng.integers(0, a, n_items) + o for a, o in zip(alphabet, offsets, strict=True)], 1
    )
    units = {tuple(r) for r in codes.tolist()}
    model = _model(codes, seed, vocab=int(sum(alphabet)))
    history = torch.as_tensor(rng.integers(-1, n_items, (3, 4)))
    beams = int(rng.integers(1, len(units) + 1))
    result = _search(
        model, codes, n_category, history, beams, diversity=float(rng.choice([0, 1, 3]))
    )
    assert result.invalid == 0
    catalog_rows = codes.tolist()
    for row_items, row_scores in zip(result.items.tolist(), result.scores.tolist(), strict=True):
        found = [i for i in row_items if i >= 0]
        assert found, "at least the best item is found"
        assert len(set(found)) == len(found)
        for item in found:  # a unit's lowest id, i.e. a real catalog item
            assert catalog_rows.index(catalog_rows[item]) == item
        finite = [s for s in row_scores if np.isfinite(s)]
        assert finite == sorted(finite, reverse=True) and len(finite) == len(found)


def test_the_diversity_penalty_changes_which_beams_survive():
    codes = _grid([()], (4, 4, 3))
    model = _model(codes, 5)
    history = torch.tensor([[1, 7, 20]])
    plain = _search(model, codes, 0, history, 8).items[0].tolist()
    diverse = _search(model, codes, 0, history, 8, diversity=50.0).items[0].tolist()
    assert plain != diverse

    # with a huge weight the survivors share fewer ID codes with each other
    def overlap(items):
        rows = [codes[i] for i in items if i >= 0]
        return np.mean([np.sum(a == b) for a, b in itertools.combinations(rows, 2)])

    assert overlap(diverse) < overlap(plain)


def test_a_beam_wider_than_the_catalog_is_one_line():
    with pytest.raises(ConfigError, match=r"num_beams 13 must be in 1\.\.12"):
        check_beams(13, 12)


def test_the_int64_answer_keys_find_the_same_repeats_as_whole_rows():
    # _drop_duplicates keys each answer by a mixed radix of its slots' local tokens; the
    # whole-row unique it replaced (kept for catalogs whose keys overflow) is the oracle.
    rng = np.random.default_rng(0)
    codes = _grid([(0,), (1,)], (3, 4))
    postings = Postings(torch.as_tensor(codes), int(codes.max()) + 1, 1)
    picks = torch.as_tensor(rng.integers(0, len(codes), (5, 40)))
    answer = torch.as_tensor(codes)[picks]
    answer[:, ::3, 2] = postings.vocab  # some slots still masked
    assert torch.equal(_first_by_key(answer, postings), _first_by_rows(answer))
    assert (~_first_by_key(answer, postings)).any(), "the sample holds repeats"


@pytest.mark.parametrize("seed", range(4))
def test_slots_sharing_tokens_and_the_overflow_fallback_search_alike(seed):
    # Token ids reused across slots (each slot's local vocabulary is its own), and the
    # whole-row duplicate finder: the same beams, never an invalid item.
    rng = np.random.default_rng(seed)
    codes = np.unique(rng.integers(0, 4, (40, 4)), axis=0)
    model = _model(codes, seed, vocab=4)
    history = torch.as_tensor(rng.integers(-1, len(codes), (3, 4)))
    postings = Postings(torch.as_tensor(codes), 4, 1)
    with torch.no_grad():
        keyed = diffusion_beam_search(model, history, postings, 1, 4, 6, 1.0)
        postings.radix = None
        rows = diffusion_beam_search(model, history, postings, 1, 4, 6, 1.0)
    assert torch.equal(keyed.items, rows.items) and keyed.invalid == rows.invalid == 0
    assert (keyed.items >= 0).all(), "40 items: every user gets 6"
