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

    def __init__(self, codes: torch.Tensor, vocab: int, n_category: int = 0):
        n_items, n_slots = codes.shape
        self.codes, self.vocab, self.n_category = codes, vocab, n_category
        # ID-slot postings are kept per full category path: (path, slot j, token v) holds
        # a handful of items, where (slot j, token v) alone holds ~N / 256.
        self.path_hash, path = torch.unique(
            _prefix_hash(codes[:, :n_category], vocab), return_inverse=True
        )
        self.root = len(self.path_hash) * n_slots * vocab  # the key of "every item"
        keys = self._keys(codes, path, torch.ones_like(codes, dtype=torch.bool)).T.reshape(-1)
        order = keys.argsort(stable=True)
        self.items = torch.cat([order % n_items, torch.arange(n_items, device=codes.device)])
        counts = torch.bincount(keys, minlength=self.root)
        self.length = torch.cat([counts, counts.new_tensor([n_items])])
        self.start = torch.cat([torch.cumsum(counts, 0) - counts, counts.new_tensor([len(keys)])])
        _, self.unit = torch.unique(codes, dim=0, return_inverse=True)  # same answer, same unit
        self.unit_codes = codes.new_zeros((int(self.unit.max()) + 1, n_slots))
        self.unit_codes[self.unit] = codes
        self.prefix_hash, self.prefix_allowed = _prefix_tables(codes, vocab, n_category)

    def _keys(self, answers, path, usable):
        """(k, L) posting keys of filled slots: (scope, slot, token), scope = the path for ID
        slots, 0 for category slots; `root` (every item) where not usable."""
        slots = torch.arange(answers.shape[1], device=answers.device)
        scope = torch.where(slots[None, :] >= self.n_category, path[:, None], 0)
        keys = (scope * answers.shape[1] + slots[None, :]) * self.vocab + answers
        return torch.where(usable, keys, self.root)

    def consistent(self, answers: torch.Tensor, mask_id: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(owner, item) pairs: every catalog item agreeing with each (k, L) partial answer."""
        filled = answers != mask_id
        hashes = _prefix_hash(answers[:, : self.n_category], self.vocab)
        path = torch.searchsorted(self.path_hash, hashes).clamp(max=len(self.path_hash) - 1)
        whole = (self.path_hash[path] == hashes) & filled[:, : self.n_category].all(dim=1)
        slots = torch.arange(answers.shape[1], device=answers.device)
        # An ID slot's path-scoped posting needs the whole path; else use every item.
        usable = filled & (whole[:, None] | (slots[None, :] < self.n_category))
        keys = self._keys(answers, path, usable)
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


def _prefix_hash(prefix: torch.Tensor, vocab: int) -> torch.Tensor:
    """(k,) int64 key of each (k, l) category prefix (mask tokens = unfilled, not hashed)."""
    base = vocab + 1
    filled = prefix < vocab
    powers = base ** torch.arange(prefix.shape[1], device=prefix.device)
    return ((prefix + 1) * filled * powers).sum(dim=1)


def _prefix_tables(codes: torch.Tensor, vocab: int, n_category: int):
    """Sorted keys of every category prefix (the empty one included) and, per prefix,
    the (L, V) tokens its items hold: the allowed tables of the category phase and of
    the first ID step, looked up instead of walking thousands of items per state."""
    n_items, n_slots = codes.shape
    keys = []
    for level in range(n_category + 1):
        prefix = codes[:, :n_category].clone()
        prefix[:, level:] = vocab  # unfilled below `level`
        keys.append(_prefix_hash(prefix, vocab))
    every = torch.cat(keys)
    unique, inverse = torch.unique(every, return_inverse=True)
    tables = torch.zeros((len(unique), n_slots, vocab), dtype=torch.bool, device=codes.device)
    item = torch.arange(n_items, device=codes.device).repeat(n_category + 1)
    slots = torch.arange(n_slots, device=codes.device)
    tables[inverse[:, None], slots[None, :], codes[item]] = True
    return unique, tables


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
    reachable = _allowed(postings, answers, mask_id, mask_id)  # (k, L, V)
    determined = (reachable.sum(-1) == 1).all(-1)  # (k,) its moves are forced: no model
    logits = torch.zeros(reachable.shape, device=reachable.device)
    run = (~determined).nonzero(as_tuple=True)[0]
    if len(run):
        logits[run] = model.denoise(select_memory(memory, alive[run, 0]), answers[run]).float()
    top, answer = _expand(logits, answers, reachable, determined, step, n_category, mask_id, width)
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
    if step >= n_category:  # complete the candidates that name one item already
        cand_answer = _complete(postings, cand_answer, torch.isfinite(cand_score), mask_id)
    cand_score = _drop_duplicates(cand_score, cand_answer)  # two fill orders, one answer
    if diversity > 0 and step >= n_category:
        pick = _diverse_top(cand_score, cand_answer, mask_id, n_category, width, diversity)
    else:
        pick = cand_score.topk(width, dim=1).indices
    rows = torch.arange(users, device=pick.device)[:, None]
    return _Beams(answer=cand_answer[rows, pick], score=cand_score[rows, pick])


def _expand(logits, answers, reachable, determined, step, n_category, mask_id, width):
    """(k, M) log-probabilities of each state's best moves and (k, M, L) the answers they make.

    reachable: (k, L, V) tokens some consistent item has at each slot. A state whose
    consistent items all share one answer is DETERMINED: every move left is forced (one
    allowed token, log-probability 0 in any order), so its only move completes it at once;
    a completed state proposes itself again, which lets two beams that reach the same
    item by different orders merge as soon as they are determined.
    """
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


def _complete(postings, answers: torch.Tensor, live: torch.Tensor, mask_id: int) -> torch.Tensor:
    """answers (U, C, L) with every live partial answer whose consistent items all share one
    answer filled in: its remaining moves are forced (log-probability 0), and completing it
    now lets candidates that reach one item by different fill orders merge BEFORE the
    selection, instead of after it (which would leave beams empty)."""
    rows = live.nonzero(as_tuple=True)
    partial = answers[rows]
    owner, items = postings.consistent(partial, mask_id)
    unit = postings.unit[items]
    low = torch.full((len(partial),), len(postings.unit), device=items.device)
    low = low.scatter_reduce(0, owner, unit, reduce="amin")
    high = torch.full_like(low, -1).scatter_reduce(0, owner, unit, reduce="amax")
    single = (low == high).nonzero(as_tuple=True)[0]
    out = answers.clone()
    out[rows[0][single], rows[1][single]] = postings.unit_codes[low[single]]
    return out


def _open_slots(masked: torch.Tensor, step: int, n_category: int) -> torch.Tensor:
    """(k, L) slots a step may fill: category level `step`, else any masked ID slot."""
    slots = torch.arange(masked.shape[1], device=masked.device)
    phase = slots == step if step < n_category else slots >= n_category
    return masked & phase[None, :]


def _allowed(postings: Postings, answers: torch.Tensor, mask_id: int, vocab: int) -> torch.Tensor:
    """(k, L, V) bool: token v may fill slot j iff some consistent item has v at j.

    States with no ID slot filled read their category prefix's table; the others walk
    their consistent items (a few hundred at most once an ID slot is filled).
    """
    n_category, n_slots = postings.n_category, answers.shape[1]
    allowed = torch.zeros((len(answers), n_slots, vocab), dtype=torch.bool, device=answers.device)
    coarse = (answers[:, n_category:] == mask_id).all(dim=1)
    if coarse.any():
        keys = _prefix_hash(answers[coarse, :n_category], mask_id)
        index = torch.searchsorted(postings.prefix_hash, keys).clamp(
            max=len(postings.prefix_hash) - 1
        )
        known = postings.prefix_hash[index] == keys  # a prefix outside the catalog: nothing
        allowed[coarse] = postings.prefix_allowed[index] & known[:, None, None]
    owner, items = postings.consistent(answers[~coarse], mask_id)
    rows = torch.nonzero(~coarse).squeeze(1)[owner]
    slots = torch.arange(n_slots, device=answers.device)
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
