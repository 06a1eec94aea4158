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
        # Each slot's own few tokens (256 codes of one level, 8 children of a category):
        # a step's (states, slots, tokens) tables index these, ~V / 256 times smaller.
        self.slot_tokens, self.local_of = _slot_vocabularies(codes, vocab)
        self.local_codes = self.local_of.gather(1, codes.T).T  # (N, L) local token ids
        self.prefix_hash, self.prefix_allowed = _prefix_tables(
            codes, self.local_codes, vocab, n_category, self.slot_tokens.shape[1]
        )
        self.radix = _radix(self.slot_tokens, self.local_of)

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


def _slot_vocabularies(codes: torch.Tensor, vocab: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(L, W) each slot's tokens in id order (W = the largest slot's count; padded with
    token 0, which no table ever allows there) and (L, V + 1) each token's local id in
    each slot (the mask token: the slot's count; a token absent from the slot: -1)."""
    n_slots = codes.shape[1]
    per_slot = [torch.unique(codes[:, j]) for j in range(n_slots)]
    width = max(len(tokens) for tokens in per_slot)
    slot_tokens = codes.new_zeros((n_slots, width))
    local_of = torch.full((n_slots, vocab + 1), -1, dtype=torch.long, device=codes.device)
    for j, tokens in enumerate(per_slot):
        slot_tokens[j, : len(tokens)] = tokens
        local_of[j, tokens] = torch.arange(len(tokens), device=codes.device)
        local_of[j, vocab] = len(tokens)
    return slot_tokens, local_of


def _radix(slot_tokens: torch.Tensor, local_of: torch.Tensor) -> torch.Tensor | None:
    """(L,) place values of a mixed-radix int64 key of an answer (slot j's digit: its local
    token id, or its count for the mask), or None when the keys would not fit in int64."""
    bases = (local_of.max(dim=1).values + 1).tolist()
    places, place = [], 1
    for base in bases:
        places.append(place)
        place *= base
    return None if place >= 2**62 else torch.tensor(places, device=slot_tokens.device)


def _prefix_tables(
    codes: torch.Tensor, local_codes: torch.Tensor, vocab: int, n_category: int, width: int
):
    """Sorted keys of every category prefix (the empty one included) and, per prefix,
    the (L, W) local tokens its items hold: the allowed tables of the category phase and
    of the first ID step, looked up instead of walking thousands of items per state."""
    n_items, n_slots = codes.shape
    keys = []
    for level in range(n_category + 1):
        prefix = codes[:, :n_category].clone()
        prefix[:, level:] = vocab  # unfilled below `level`
        keys.append(_prefix_hash(prefix, vocab))
    every = torch.cat(keys)
    unique, inverse = torch.unique(every, return_inverse=True)
    tables = torch.zeros((len(unique), n_slots, width), dtype=torch.bool, device=codes.device)
    item = torch.arange(n_items, device=codes.device).repeat(n_category + 1)
    slots = torch.arange(n_slots, device=codes.device)
    tables[inverse[:, None], slots[None, :], local_codes[item]] = True
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
    reachable = _allowed(postings, answers, mask_id)  # (k, L, W) over each slot's tokens
    determined = (reachable.sum(-1) == 1).all(-1)  # (k,) its moves are forced: no model
    logits = torch.zeros(reachable.shape, device=reachable.device)
    run = (~determined).nonzero(as_tuple=True)[0]
    if len(run):
        full = model.denoise(select_memory(memory, alive[run, 0]), answers[run]).float()
        logits[run] = full.gather(2, postings.slot_tokens[None].expand(len(run), -1, -1))
    top, answer = _expand(
        logits, answers, reachable, determined, step, n_category, mask_id, width, postings
    )
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
    cand_score = _drop_duplicates(cand_score, cand_answer, postings)  # two orders, one answer
    if diversity > 0 and step >= n_category:
        pick = _diverse_top(cand_score, cand_answer, mask_id, n_category, width, diversity)
    else:
        pick = cand_score.topk(width, dim=1).indices
    rows = torch.arange(users, device=pick.device)[:, None]
    return _Beams(answer=cand_answer[rows, pick], score=cand_score[rows, pick])


def _expand(logits, answers, reachable, determined, step, n_category, mask_id, width, postings):
    """(k, M) log-probabilities of each state's best moves and (k, M, L) the answers they make.

    logits, reachable: (k, L, W) over each slot's own tokens (`Postings.slot_tokens`);
    reachable: the tokens some consistent item has at each slot. A state whose
    consistent items all share one answer is DETERMINED: every move left is forced (one
    allowed token, log-probability 0 in any order), so its only move completes it at once;
    a completed state proposes itself again, which lets two beams that reach the same
    item by different orders merge as soon as they are determined.
    """
    tokens = postings.slot_tokens
    allowed = reachable & _open_slots(answers == mask_id, step, n_category)[..., None]
    log_probs = torch.log_softmax(logits.masked_fill(~allowed, -torch.inf), dim=-1)
    log_probs = torch.where(allowed, log_probs, -torch.inf).flatten(1)  # (k, L * W)
    top, flat = log_probs.topk(min(width, log_probs.shape[1]), dim=1)
    slot, local = flat // tokens.shape[1], flat % tokens.shape[1]
    answer = answers[:, None, :].expand(-1, top.shape[1], -1).clone()
    answer.scatter_(2, slot[..., None], tokens[slot, local][..., None])
    if determined.any():  # the one token left in each slot
        only = reachable[determined].float().argmax(-1)  # (d, L) local ids
        slots = torch.arange(tokens.shape[0], device=only.device)
        answer[determined, 0] = tokens[slots[None, :], only]
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


def _allowed(postings: Postings, answers: torch.Tensor, mask_id: int) -> torch.Tensor:
    """(k, L, W) bool: slot j's local token v may fill it iff some consistent item has it.

    States with no ID slot filled read their category prefix's table; the others walk
    their consistent items (a few hundred at most once an ID slot is filled).
    """
    n_category, n_slots = postings.n_category, answers.shape[1]
    width = postings.slot_tokens.shape[1]
    allowed = torch.zeros((len(answers), n_slots, width), dtype=torch.bool, device=answers.device)
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
    allowed[rows[:, None], slots[None, :], postings.local_codes[items]] = True
    return allowed


def _drop_duplicates(score: torch.Tensor, answer: torch.Tensor, postings: Postings) -> torch.Tensor:
    """score with every repeat of a (user, answer) row set to -inf but its best one."""
    order = score.argsort(dim=1, descending=True, stable=True)
    sorted_answer = answer.gather(1, order[..., None].expand(-1, -1, answer.shape[2]))
    if postings.radix is not None:
        first = _first_by_key(sorted_answer, postings)
    else:
        first = _first_by_rows(sorted_answer)
    keep = torch.zeros_like(first).scatter(1, order, first)
    return torch.where(keep, score, -torch.inf)


def _first_by_key(answer: torch.Tensor, postings: Postings) -> torch.Tensor:
    """(U, C) True at each answer's first occurrence in its user's row: one int64 key per
    answer (mixed radix of the slots' local tokens), a stable row-wise sort, neighbours
    compared (a 1-D sort, where `torch.unique(dim=0)` sorts whole rows: 5x slower)."""
    slots = torch.arange(answer.shape[2], device=answer.device)
    keys = (postings.local_of[slots, answer] * postings.radix).sum(-1)
    by_key = keys.sort(dim=1, stable=True)  # equal keys keep their order
    first = torch.ones_like(keys, dtype=torch.bool)
    first[:, 1:] = by_key.values[:, 1:] != by_key.values[:, :-1]
    return torch.zeros_like(first).scatter(1, by_key.indices, first)


def _first_by_rows(answer: torch.Tensor) -> torch.Tensor:
    """`_first_by_key` for answers whose keys would overflow int64: unique (user, answer) rows."""
    users, count, n_slots = answer.shape
    user = torch.arange(users, device=answer.device)[:, None, None].expand(-1, count, 1)
    keys = torch.cat([user, answer], dim=2).reshape(users * count, n_slots + 1)
    _, inverse = torch.unique(keys, dim=0, return_inverse=True)
    position = torch.arange(users * count, device=answer.device)
    first = torch.full((int(inverse.max()) + 1,), users * count, device=answer.device)
    first = first.scatter_reduce(0, inverse, position, reduce="amin")
    return (first[inverse] == position).view(users, count)


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
