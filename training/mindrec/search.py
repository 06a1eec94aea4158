"""Diffusion beam search under a true trie over (category path, semantic ID).

MindRec (arXiv 2511.12597, `MindRec/test_ddp.py::generate`) decodes a fully masked
answer one slot per step: the category levels left to right (coarse to fine), then the
semantic-ID slots in any order, confidence first: each beam proposes its best B
(slot, token) pairs over all still-masked slots, so the model commits first to the slot it
is surest of. The B best distinct partial answers survive each step; in the ID phase a
diversity penalty spreads them apart.

What differs from the paper's code, on purpose (policies-from-papers.md section 2.6):
- The allowed tokens of a slot are those of the catalog items still CONSISTENT with every
  slot already filled (a trie over any fill order), not every code seen at that
  position, so every finished beam is a catalog item.
- Scores are summed log-probabilities (the code multiplies probabilities, which
  underflows); the log-softmax is taken over the allowed tokens, as the title policies'
  trie-constrained beam search does (`training/decoding.py`).
- The diversity penalty is the paper's factor (1 - log(1 + se)), in log space and
  weighted: adjusted = score + w log(1 - log(1 + se)), se = the most ID slots a candidate
  shares with a beam already selected at this step, over its filled ID slots. It only
  orders the selection (a greedy pass, no heap); kept beams carry their true scores.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from recagora.item_space.errors import ConfigError
from recagora.training.mindrec.model import MindRecModel, select_memory


@dataclass
class SearchResult:
    """items: (U, B) catalog ids (a unit's lowest id), -1 where fewer were found;
    scores: (U, B) summed log-probabilities, -inf there; invalid: finished beams that
    name no catalog item (0 unless the trie is broken)."""

    items: torch.Tensor
    scores: torch.Tensor
    invalid: int


@dataclass
class _Beams:
    answer: torch.Tensor  # (U, B, L) token ids, mask id where unfilled
    score: torch.Tensor  # (U, B) summed log-probabilities, -inf = no beam


class Postings:
    """The catalog's inverted index: the items holding token v at slot j, plus "all items".

    A state's consistent items (those agreeing with every filled slot) are read off its
    most selective filled slot's posting, then filtered by the other filled slots, so the
    search never touches an (states x N) table after the first step.
    """

    def __init__(self, codes: torch.Tensor, vocab: int):
        n_items, n_slots = codes.shape
        keys = (codes + torch.arange(n_slots, device=codes.device)[None, :] * vocab).T.reshape(-1)
        order = keys.argsort(stable=True)
        self.codes, self.vocab, self.root = codes, vocab, n_slots * vocab
        all_items = torch.arange(n_items, device=codes.device)
        self.items = torch.cat([order % n_items, all_items])
        counts = torch.bincount(keys, minlength=self.root)
        self.length = torch.cat([counts, counts.new_tensor([n_items])])
        self.start = torch.cat([torch.cumsum(counts, 0) - counts, counts.new_tensor([len(keys)])])

    def consistent(self, answers: torch.Tensor, mask_id: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(owner, item) pairs: every catalog item agreeing with each (k, L) partial answer."""
        filled = answers != mask_id
        slots = torch.arange(answers.shape[1], device=answers.device)
        keys = torch.where(filled, slots[None, :] * self.vocab + answers, self.root)
        pivot = keys.gather(1, self.length[keys].argmin(dim=1, keepdim=True)).squeeze(1)
        lengths = self.length[pivot]
        owner = torch.repeat_interleave(torch.arange(len(answers), device=answers.device), lengths)
        offset = torch.arange(len(owner), device=answers.device) - torch.repeat_interleave(
            torch.cumsum(lengths, 0) - lengths, lengths
        )
        items = self.items[self.start[pivot][owner] + offset]
        check = (pivot != self.root)[owner]  # an empty answer agrees with every item
        agree = torch.ones_like(check)
        mine = owner[check]
        agree[check] = ((self.codes[items[check]] == answers[mine]) | ~filled[mine]).all(dim=1)
        return owner[agree], items[agree]


def check_beams(num_beams: int, n_units: int) -> None:
    """Refuse a beam wider than the catalog's distinct items (ConfigError, one line)."""
    if not 1 <= num_beams <= n_units:
        raise ConfigError(
            f"num_beams {num_beams} must be in 1..{n_units} (the catalog's distinct items)"
        )


def diffusion_beam_search(
    model: MindRecModel,
    history: torch.Tensor,
    postings: Postings,
    n_category: int,
    mask_id: int,
    num_beams: int,
    diversity: float = 0.0,
) -> SearchResult:
    """Beam search of U histories at once.

    model: `encode(history)` once per user, then `denoise(memory, answer)` per step.
    history: (U, H) item ids (-1 padding); postings: over the (N, L) item codes.
    """
    users, n_slots = history.shape[0], postings.codes.shape[1]
    device = postings.codes.device
    beams = _Beams(
        answer=torch.full((users, num_beams, n_slots), mask_id, dtype=torch.long, device=device),
        score=torch.full((users, num_beams), -torch.inf, device=device),
    )
    beams.score[:, 0] = 0.0
    memory = model.encode(history)
    for step in range(n_slots):
        beams = _step(model, memory, postings, beams, step, n_category, mask_id, diversity)
    return _finish(beams, postings, mask_id)


def _step(model, memory, postings, beams, step, n_category, mask_id, diversity):
    users, width, n_slots = beams.answer.shape
    alive = torch.isfinite(beams.score).nonzero()  # (k, 2) user, beam
    answers = beams.answer[alive[:, 0], alive[:, 1]]
    logits = model.denoise(select_memory(memory, alive[:, 0]), answers).float()  # (k, L, V)
    reachable = _allowed(postings, answers, mask_id, logits.shape[-1])
    top, answer = _expand(logits, answers, reachable, step, n_category, mask_id, width)
    # Candidates in a (U, B * B) layout: candidate (b, j) is beam b's j-th best move.
    per_beam = top.shape[1]
    score = torch.full((users, width, per_beam), -torch.inf, device=top.device)
    cand_answer = torch.full(
        (users, width, per_beam, n_slots), mask_id, dtype=torch.long, device=top.device
    )
    score[alive[:, 0], alive[:, 1]] = beams.score[alive[:, 0], alive[:, 1], None] + top
    cand_answer[alive[:, 0], alive[:, 1]] = answer
    flat_shape = (users, width * per_beam)
    cand_score, cand_answer = score.reshape(flat_shape), cand_answer.reshape(*flat_shape, n_slots)
    cand_score = _drop_duplicates(cand_score, cand_answer)  # two fill orders, one answer
    if diversity > 0 and step >= n_category:
        pick = _diverse_top(cand_score, cand_answer, mask_id, n_category, width, diversity)
    else:
        pick = cand_score.topk(width, dim=1).indices
    rows = torch.arange(users, device=pick.device)[:, None]
    return _Beams(answer=cand_answer[rows, pick], score=cand_score[rows, pick])


def _expand(logits, answers, reachable, step, n_category, mask_id, width):
    """(k, M) log-probabilities of each state's best moves and (k, M, L) the answers they make.

    reachable: (k, L, V) tokens some consistent item has at each slot. A state whose
    consistent items all share one answer is DETERMINED: every move left is forced (one
    allowed token, log-probability 0 in any order), so its only move completes it at once;
    a completed state proposes itself again, which lets two beams that reach the same
    item by different orders merge as soon as they are determined.
    """
    determined = (reachable.sum(-1) == 1).all(-1)  # (k,)
    completed = reachable.float().argmax(-1)  # (k, L): the one token left, if determined
    allowed = reachable & _open_slots(answers == mask_id, step, n_category)[..., None]
    log_probs = torch.log_softmax(logits.masked_fill(~allowed, -torch.inf), dim=-1)
    log_probs = torch.where(allowed, log_probs, -torch.inf).flatten(1)  # (k, L * V)
    top, flat = log_probs.topk(min(width, log_probs.shape[1]), dim=1)
    vocab = logits.shape[-1]
    answer = answers[:, None, :].expand(-1, top.shape[1], -1).clone()
    answer.scatter_(2, (flat // vocab)[..., None], (flat % vocab)[..., None])
    answer[determined, 0] = completed[determined]
    top[determined, 0], top[determined, 1:] = 0.0, -torch.inf
    return top, answer


def _open_slots(masked: torch.Tensor, step: int, n_category: int) -> torch.Tensor:
    """(k, L) slots a step may fill: category level `step`, else any masked ID slot."""
    slots = torch.arange(masked.shape[1], device=masked.device)
    phase = slots == step if step < n_category else slots >= n_category
    return masked & phase[None, :]


def _allowed(postings: Postings, answers: torch.Tensor, mask_id: int, vocab: int) -> torch.Tensor:
    """(k, L, V) bool: token v may fill slot j iff some consistent item has v at j."""
    n_slots = answers.shape[1]
    allowed = torch.zeros((len(answers), n_slots, vocab), dtype=torch.bool, device=answers.device)
    slots = torch.arange(n_slots, device=answers.device)
    empty = (answers == mask_id).all(dim=1)
    if empty.any():  # the first step: every item, the same table for every user
        every = torch.zeros((n_slots, vocab), dtype=torch.bool, device=answers.device)
        every[slots[None, :], postings.codes] = True
        allowed[empty] = every
    owner, items = postings.consistent(answers[~empty], mask_id)
    rows = torch.nonzero(~empty).squeeze(1)[owner]
    allowed[rows[:, None], slots[None, :], postings.codes[items]] = True
    return allowed


def _drop_duplicates(score: torch.Tensor, answer: torch.Tensor) -> torch.Tensor:
    """score with every repeat of a (user, answer) row set to -inf but its best one."""
    users, count, n_slots = answer.shape
    order = score.argsort(dim=1, descending=True, stable=True)
    sorted_answer = answer.gather(1, order[..., None].expand(-1, -1, n_slots))
    user = torch.arange(users, device=score.device)[:, None, None].expand(-1, count, 1)
    keys = torch.cat([user, sorted_answer], dim=2).reshape(users * count, n_slots + 1)
    _, inverse = torch.unique(keys, dim=0, return_inverse=True)
    position = torch.arange(users * count, device=score.device)
    first = torch.full((int(inverse.max()) + 1,), users * count, device=score.device)
    first = first.scatter_reduce(0, inverse, position, reduce="amin")
    keep_sorted = (first[inverse] == position).view(users, count)
    keep = torch.zeros_like(keep_sorted).scatter(1, order, keep_sorted)
    return torch.where(keep, score, -torch.inf)


def _diverse_top(score, answer, mask_id, n_category, width, weight) -> torch.Tensor:
    """(U, B) candidate indices chosen greedily by score + w log(1 - log(1 + se))."""
    users = score.shape[0]
    is_id = torch.arange(answer.shape[2], device=score.device) >= n_category
    filled = (answer != mask_id) & is_id
    n_filled = filled.sum(-1).clamp(min=1).float()
    shared_max = torch.zeros_like(score)
    taken = torch.zeros_like(score, dtype=torch.bool)
    rows = torch.arange(users, device=score.device)
    picks = []
    for _ in range(width):
        penalty = torch.log(1.0 - torch.log1p(shared_max / n_filled))
        adjusted = (score + weight * penalty).masked_fill(taken, -torch.inf)
        best, pick = adjusted.max(dim=1)
        # Once the finite candidates run out, point at a -inf one (a dead beam), not a repeat.
        pick = torch.where(torch.isfinite(best), pick, (~taken).float().argmax(dim=1))
        picks.append(pick)
        taken[rows, pick] = True
        same = (answer == answer[rows, pick][:, None]) & filled & filled[rows, pick][:, None]
        shared_max = torch.maximum(shared_max, same.sum(-1).float())
    return torch.stack(picks, dim=1)


def _finish(beams: _Beams, postings: Postings, mask_id: int) -> SearchResult:
    users, width, n_slots = beams.answer.shape
    alive = torch.isfinite(beams.score).reshape(-1)
    owner, items = postings.consistent(beams.answer.reshape(-1, n_slots)[alive], mask_id)
    none = len(postings.items)  # above every item id
    first = torch.full((int(alive.sum()),), none, device=items.device)
    first = first.scatter_reduce(0, owner, items, reduce="amin")  # lowest id = the unit's id
    lowest = torch.full((users * width,), none, device=items.device)
    lowest[alive] = first
    found, alive = (lowest < none).view(users, width), alive.view(users, width)
    ids = torch.where(found, lowest.view(users, width), -1)
    scores = torch.where(found, beams.score, -torch.inf)
    order = scores.argsort(dim=1, descending=True, stable=True)
    return SearchResult(
        items=ids.gather(1, order).cpu(),
        scores=scores.gather(1, order).cpu(),
        invalid=int((alive & ~found).sum()),
    )
