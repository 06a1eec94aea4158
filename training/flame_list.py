"""FLAME's list editor pi_list: SFT on simulated classifier errors, then step-wise GRPO.

The editor reads a visit (its codes and previous drugs), a proposed list M_p and an
instruction (add | remove) and writes drugs one line at a time, then STOP (at most
`max_lines`; the slot after the last line can only be STOP). A line naming a drug outside
the instruction's candidates (adding one already in the list, removing one that is not,
or repeating a line) matches nothing and is a refusal. The final list is
(M_p + added) - removed, the two instructions run independently on the same M_p (FLAME's
inference, greedy).

Model: a GRU decoder over drug tokens whose first state encodes (mean-pooled context
tokens, mean of the proposed drugs, the instruction); its token and drug embeddings start
from the flame-cls classifier. FLAME's editor *is* the classifier's LLM fine-tuned further,
so it reads the proposal exactly and keeps the classifier's per-drug knowledge; a GRU state
does neither (the first draft refused on half its lines: it could not tell which drugs were
listed). So every drug's logit also gets, per instruction, learned weights on (is listed,
the classifier's logit, their product): validity and the classifier's confidence are one
weight away. Training:
1. SFT: teacher-forced cross-entropy on `flame_list_data.simulate_prompts` targets;
2. GRPO: G sampled completions per prompt, rewards and advantages of
   `training/flame_rewards.py`: `reward=stepwise` (norm_group(R) + lam * (phi(n) - phi(n-1))
   per line; STOP, no line, gets norm_group(R)) or `reward=outcome` (norm_group(R) on every
   token). One optimiser step per rollout batch, so the clipped ratio is 1 and no clip binds
   (as in TRL's default); no KL term. The editor state kept is the best one on the
   validation visits (SFT's end or a GRPO checkpoint every `eval_every` steps).
Written by hand rather than on `training/grpo_trainer.py`: that trainer rolls out LM tokens
under an item trie, and the editor's actions are drug ids with a STOP.
"""

from __future__ import annotations

import copy
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from recagora.item_space.clinical import (
    build_interaction_graph,
    clinical_path,
    load_visits,
    patient_split,
)
from recagora.item_space.clinical.lists import context_tokens
from recagora.item_space.errors import ConfigError
from recagora.item_space.metrics.medication import ddi_rate, f1, jaccard, refusal_rate
from recagora.training.flame_cls import ARRAYS, META, yes_list
from recagora.training.flame_list_data import (
    ADD,
    REMOVE,
    EditPrompt,
    ErrorProfile,
    error_profile,
    simulate_prompts,
)
from recagora.training.flame_rewards import (
    group_normalised,
    list_reward,
    outcome_advantages,
    potentials,
    stepwise_advantages,
)

REWARDS = ("stepwise", "outcome", "none")
FEATURE_SCALE = 20.0
NEG = -1e9  # a masked logit (finite: masked positions times a zero weight stay 0, not nan)


@dataclass
class FlameListConfig:
    """The list editor's classifier, rewards and budget."""

    classifier: str = field(
        default="runs/train/flame-cls",
        metadata={"help": "Run folder of `recagora train flame-cls` (same data and seed)."},
    )
    data: str = field(
        default="mimic-iv-demo", metadata={"help": "Clinical data (must be the classifier's)."}
    )
    interactions: str = field(
        default="crescenddi", metadata={"help": "Interaction table for the DDI term and rate."}
    )
    max_drugs: int = field(
        default=200, metadata={"help": "Vocabulary size (must be the classifier's)."}
    )
    reward: str = field(
        default="stepwise",
        metadata={
            "help": "GRPO advantage: stepwise (FLAME), outcome (plain GRPO) or none (SFT only)."
        },
    )
    alpha: float = field(default=0.0, metadata={"help": "DDI weight in the potential (FLAME: 0)."})
    beta: float = field(
        default=0.2, metadata={"help": "Refusal weight in the potential (FLAME: 0.2)."}
    )
    lam: float = field(default=0.5, metadata={"help": "Weight of the step term (FLAME: 0.5)."})
    sft_prompts: int = field(default=2000, metadata={"help": "Simulated SFT prompts."})
    sft_epochs: int = field(default=3, metadata={"help": "SFT passes over them."})
    grpo_steps: int = field(default=100, metadata={"help": "GRPO optimiser steps."})
    prompts_per_step: int = field(default=16, metadata={"help": "Prompts per GRPO step."})
    group: int = field(default=8, metadata={"help": "Completions per prompt (FLAME: 8)."})
    max_lines: int = field(default=5, metadata={"help": "Most lines per completion."})
    lr: float = field(default=3e-3, metadata={"help": "Adam learning rate of SFT."})
    grpo_lr: float = field(
        default=3e-3,
        metadata={"help": "Adam learning rate of GRPO (3e-3 over 1e-3: validation, 5 splits)."},
    )
    eval_every: int = field(
        default=10, metadata={"help": "GRPO steps between validation checkpoints."}
    )
    seed: int = field(default=0, metadata={"help": "Seed (the split must be the classifier's)."})
    output_dir: str = field(default="runs/train/flame-list", metadata={"help": "Run folder."})

    def __post_init__(self) -> None:
        if self.reward not in REWARDS:
            raise ConfigError(f"reward must be one of {', '.join(REWARDS)}, got {self.reward!r}")
        if self.group < 2:
            raise ConfigError(
                f"group must be >= 2 (a group-normalised advantage), got {self.group}"
            )
        for name in ("max_lines", "prompts_per_step", "sft_epochs", "eval_every"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        if min(self.alpha, self.beta, self.lam) < 0:
            raise ConfigError("alpha, beta and lam must be >= 0")
        if min(self.lr, self.grpo_lr) <= 0:
            raise ConfigError("lr and grpo_lr must be > 0")


class ListEditor(torch.nn.Module):
    """GRU over drug tokens; output vocabulary = drugs + STOP; input adds BOS."""

    def __init__(self, tokens: np.ndarray, drugs: np.ndarray) -> None:
        super().__init__()
        n_tokens, dim = tokens.shape
        self.n_drugs = len(drugs)
        self.stop, self.bos = self.n_drugs, self.n_drugs + 1
        self.context = torch.nn.EmbeddingBag(n_tokens + 1, dim, mode="mean", padding_idx=n_tokens)
        self.context.weight.data[:n_tokens] = torch.tensor(tokens)
        self.inputs = torch.nn.Embedding(self.n_drugs + 2, dim)
        self.inputs.weight.data[: self.n_drugs] = torch.tensor(drugs)
        self.op = torch.nn.Embedding(2, dim)
        self.start = torch.nn.Linear(3 * dim, dim)
        self.gru = torch.nn.GRU(dim, dim, batch_first=True)
        self.out = torch.nn.Linear(dim, self.n_drugs + 1)
        self.out.weight.data[: self.n_drugs] = torch.tensor(drugs)
        # Per instruction, the weights of (is listed, classifier logit, their product), scaled
        # by FEATURE_SCALE: Adam moves a weight by ~lr a step, and these few need to reach ~5
        # within one SFT run (unscaled, SFT left them near 0.2 and half the lines refused).
        self.features = torch.nn.Parameter(torch.zeros(2, 3))

    def initial(
        self, context: torch.Tensor, proposal: torch.Tensor, op: torch.Tensor, cls: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(first GRU state (1, B, dim), per-drug logit offsets (B, 1, drugs + 1))."""
        listed = (proposal @ self.inputs.weight[: self.n_drugs]) / proposal.sum(
            1, keepdim=True
        ).clamp(min=1)
        state = torch.tanh(self.start(torch.cat([self.context(context), listed, self.op(op)], -1)))
        w = FEATURE_SCALE * self.features[op]
        offset = w[:, :1] * proposal + w[:, 1:2] * cls + w[:, 2:] * proposal * cls
        offset = torch.cat([offset, torch.zeros(len(op), 1)], 1)  # STOP: no offset
        return state.unsqueeze(0), offset.unsqueeze(1)

    def logits(self, start: tuple[torch.Tensor, torch.Tensor], previous: torch.Tensor):
        """(B, T, drugs + 1) next-token logits given the previous tokens (BOS first)."""
        output, _ = self.gru(self.inputs(previous), start[0])
        return self.out(output) + start[1]


def new_editor(classifier: str | Path) -> ListEditor:
    """A list editor whose embeddings start from the flame-cls run in `classifier`."""
    arrays = np.load(Path(classifier) / ARRAYS)
    return ListEditor(arrays["tokens"], arrays["drugs"])


def _last_only_stop(logits: torch.Tensor, max_lines: int) -> torch.Tensor:
    """Mask every drug at slot `max_lines` (after the last allowed line only STOP remains)."""
    if logits.shape[1] > max_lines:
        logits = logits.clone()
        logits[:, max_lines, :-1] = NEG
    return logits


@dataclass
class World:
    """The visits, the split, the interaction graph and the classifier's outputs per visit."""

    data: object
    interactions: object
    token_index: dict
    train: list
    valid: list
    test: list
    probabilities: np.ndarray  # (visits, drugs) classifier P(yes)
    threshold: float

    def proposal(self, visit: int) -> tuple[int, ...]:
        return yes_list(self.probabilities[visit], self.threshold)

    def truth(self, visit: int) -> set[int]:
        return set(self.data.visits[visit].drugs)


def load_world(config: FlameListConfig) -> World:
    """The data, split and classifier outputs; ConfigError if the classifier does not fit."""
    folder = Path(config.classifier)
    if not (folder / ARRAYS).is_file() or not (folder / META).is_file():
        raise ConfigError(
            f"no flame-cls classifier in {folder} (train one: recagora train flame-cls)"
        )
    arrays, meta = np.load(folder / ARRAYS), json.loads((folder / META).read_text())
    if meta.get("seed") != config.seed:
        raise ConfigError(
            f"the classifier in {folder} used split seed {meta.get('seed')}, not {config.seed}"
            " (its training visits would be tested on)"
        )
    data = load_visits(clinical_path(config.data), max_drugs=config.max_drugs)
    if tuple(meta["drugs"]) != tuple(data.drugs):
        raise ConfigError(f"the classifier in {folder} was trained on another drug vocabulary")
    train, valid, test = patient_split(data.visits, seed=config.seed)
    index = {t: n for n, t in enumerate(meta["tokens"])}
    rows = []
    for visit in range(len(data.visits)):
        known = [index[t] for t in context_tokens(data, visit) if t in index]
        pooled = arrays["tokens"][known].mean(axis=0) if known else 0.0
        rows.append(1.0 / (1.0 + np.exp(-(arrays["bias"] + arrays["drugs"] @ pooled))))
    interactions = build_interaction_graph(data.drugs, clinical_path(config.interactions))
    return World(data, interactions, index, train, valid, test, np.array(rows), meta["threshold"])


def _inputs(world: World, prompts: list[EditPrompt]) -> tuple[torch.Tensor, ...]:
    pad = len(world.token_index)
    rows = [
        [world.token_index[t] for t in context_tokens(world.data, p.visit) if t in world.token_index]
        or [pad]
        for p in prompts
    ]  # fmt: skip
    width = max(len(r) for r in rows)
    context = torch.tensor([r + [pad] * (width - len(r)) for r in rows])
    proposal = torch.zeros(len(prompts), len(world.data.drugs))
    for row, p in enumerate(prompts):
        proposal[row, list(p.proposal)] = 1.0
    op = torch.tensor([0 if p.op == ADD else 1 for p in prompts])
    p = np.clip(world.probabilities[[q.visit for q in prompts]], 1e-4, 1 - 1e-4)
    cls = torch.tensor(np.log(p / (1 - p)), dtype=torch.float32)
    return context, proposal, op, cls


def train_flame_list(config: FlameListConfig) -> dict:
    """SFT then (unless reward=none) GRPO; evaluates on the test visits and writes the run folder."""
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    world = load_world(config)
    model = new_editor(config.classifier)
    profile, rows = training_profile(world), []
    rows += run_sft(model, world, profile, config, rng)
    report = {
        "classifier": evaluate(None, world, world.test, config.max_lines),
        "sft": evaluate(model, world, world.test, config.max_lines),
    }
    if config.reward != "none":
        rows += run_grpo(model, world, profile, config, rng)
        report["grpo"] = evaluate(model, world, world.test, config.max_lines)
    report["valid"] = {
        "classifier": evaluate(None, world, world.valid, config.max_lines),
        "editor": evaluate(model, world, world.valid, config.max_lines),
    }
    _save(config, rows, report)
    return report


def training_profile(world: World) -> ErrorProfile:
    """The classifier's errors on the training visits (FLAME's visit_error / drug_error)."""
    proposals = [world.proposal(i) for i in world.train]
    truths = [world.truth(i) for i in world.train]
    return error_profile(proposals, truths, len(world.data.drugs))


def run_sft(model, world: World, profile: ErrorProfile, config, rng) -> list[dict]:
    truths = [world.truth(i) for i in world.train]
    prompts = simulate_prompts(
        world.train, truths, profile, config.sft_prompts, rng, config.max_lines
    )
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)
    return [
        {"phase": "sft", "step": e, "loss": sft_epoch(model, optimiser, world, prompts, rng)}
        for e in range(1, config.sft_epochs + 1)
    ]


def sft_epoch(
    model: ListEditor, optimiser, world: World, prompts: list[EditPrompt], rng, batch: int = 64
) -> float:
    """One teacher-forced pass (targets, then STOP); the mean batch loss."""
    order, losses = rng.permutation(len(prompts)), []
    for begin in range(0, len(prompts), batch):
        chunk = [prompts[i] for i in order[begin : begin + batch]]
        width = max(len(p.target) for p in chunk) + 1
        targets = torch.tensor(
            [[*p.target, model.stop] + [-100] * (width - len(p.target) - 1) for p in chunk]
        )
        previous = torch.cat(
            [torch.full((len(chunk), 1), model.bos), targets[:, :-1].clamp(min=0)], 1
        )
        logits = model.logits(model.initial(*_inputs(world, chunk)), previous)
        loss = torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100
        )
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(float(loss.detach()))
    return round(float(np.mean(losses)), 6)


def run_grpo(model, world: World, profile: ErrorProfile, config, rng) -> list[dict]:
    """GRPO steps; leaves `model` at its best validation checkpoint (SFT's end included)."""
    truths = [world.truth(i) for i in world.train]
    optimiser = torch.optim.Adam(model.parameters(), lr=config.grpo_lr)
    best = (evaluate(model, world, world.valid, config.max_lines)["jaccard"], 0)
    state, rows = copy.deepcopy(model.state_dict()), []
    for step in range(1, config.grpo_steps + 1):
        batch = simulate_prompts(
            world.train, truths, profile, config.prompts_per_step, rng, config.max_lines
        )
        row = {
            "phase": "grpo",
            "step": step,
            **grpo_step(model, optimiser, world, batch, config, rng),
        }
        if step % config.eval_every == 0 or step == config.grpo_steps:
            row["valid_jaccard"] = evaluate(model, world, world.valid, config.max_lines)["jaccard"]
            if row["valid_jaccard"] > best[0]:
                best, state = (row["valid_jaccard"], step), copy.deepcopy(model.state_dict())
        rows.append(row)
    model.load_state_dict(state)
    rows.append({"phase": "grpo", "step": best[1], "kept": 1, "valid_jaccard": best[0]})
    return rows


def _sample(model: ListEditor, start, max_lines: int, greedy: bool, generator=None) -> torch.Tensor:
    """(B, max_lines + 1) tokens; what follows the first STOP is padding, never read."""
    tokens = []
    previous = torch.full((start[0].shape[1], 1), model.bos)
    hidden = start[0]
    for slot in range(max_lines + 1):
        output, hidden = model.gru(model.inputs(previous), hidden)
        logits = model.out(output[:, -1]) + start[1][:, 0]
        if slot == max_lines:
            logits[:, :-1] = NEG
        token = (
            logits.argmax(-1)
            if greedy
            else torch.multinomial(torch.softmax(logits, -1), 1, generator=generator).squeeze(1)
        )
        tokens.append(token)
        previous = token.unsqueeze(1)
    return torch.stack(tokens, 1)


def _lines(tokens: list[int], prompt: EditPrompt, stop: int) -> list[int | None]:
    """The completion's lines up to STOP; a drug outside the instruction's candidates is None."""
    lines, seen, listed = [], set(), set(prompt.proposal)
    for token in tokens:
        if token == stop:
            break
        valid = token not in seen and (
            (token not in listed) if prompt.op == ADD else (token in listed)
        )
        lines.append(token if valid else None)
        seen.add(token)
    return lines


def grpo_step(
    model: ListEditor, optimiser, world: World, prompts: list[EditPrompt], config, rng
) -> dict:
    """Sample G completions per prompt, weight each token by its advantage, one Adam step."""
    group = [p for p in prompts for _ in range(config.group)]
    generator = torch.Generator().manual_seed(int(rng.integers(2**31)))
    start = model.initial(*_inputs(world, group))
    with torch.no_grad():
        tokens = _sample(model, start, config.max_lines, greedy=False, generator=generator)
    previous = torch.cat([torch.full((len(group), 1), model.bos), tokens[:, :-1]], 1)
    logits = _last_only_stop(model.logits(start, previous), config.max_lines)
    logp = torch.log_softmax(logits, -1).gather(2, tokens.unsqueeze(2)).squeeze(2)
    weights, mask = torch.zeros_like(logp), torch.zeros_like(logp)
    rewards, refusals = [], []
    for begin in range(0, len(group), config.group):
        members = range(begin, begin + config.group)
        lines = [_lines(tokens[i].tolist(), group[i], model.stop) for i in members]
        phis = [potentials(set(group[i].proposal), ln, world.truth(group[i].visit),
                           world.interactions.interacting, op=group[i].op, alpha=config.alpha,
                           beta=config.beta)
                for i, ln in zip(members, lines, strict=True)]  # fmt: skip
        steps = (
            stepwise_advantages(phis, config.lam)
            if config.reward == "stepwise"
            else outcome_advantages(phis)
        )
        base = group_normalised([list_reward(phi) for phi in phis])
        for i, ln, adv, b, phi in zip(members, lines, steps, base, phis, strict=True):
            n = len(ln)
            weights[i, :n] = torch.tensor(adv, dtype=weights.dtype)
            weights[i, n] = float(b)  # STOP (forced after max_lines) is no line: outcome term only
            mask[i, : n + 1] = 1.0
            rewards.append(list_reward(phi))
            refusals.append(refusal_rate(ln))
    loss = -(weights * logp * mask).sum() / mask.sum()
    optimiser.zero_grad()
    loss.backward()
    optimiser.step()
    return {
        "loss": round(float(loss.detach()), 6),
        "reward": round(float(np.mean(rewards)), 6),
        "refusal": round(float(np.mean(refusals)), 6),
    }


@torch.no_grad()
def edit(model: ListEditor, world: World, visits, max_lines: int) -> tuple[list, list]:
    """(final lists, refusal rate of every completion): greedy add and remove on each yes-list."""
    prompts = [EditPrompt(v, op, world.proposal(v), ()) for v in visits for op in (ADD, REMOVE)]
    tokens = _sample(model, model.initial(*_inputs(world, prompts)), max_lines, greedy=True)
    finals, refused = [], []
    for k in range(0, len(prompts), 2):
        added, removed = (
            _lines(tokens[k + j].tolist(), prompts[k + j], model.stop) for j in (0, 1)
        )
        refused += [refusal_rate(added), refusal_rate(removed)]
        chosen = {d for d in added if d is not None}, {d for d in removed if d is not None}
        finals.append((set(prompts[k].proposal) | chosen[0]) - chosen[1])
    return finals, refused


def evaluate(model: ListEditor | None, world: World, visits, max_lines: int) -> dict[str, float]:
    """Jaccard, F1, DDI rate, list length (and refusal rate) of the (edited) yes-lists."""
    if model is None:
        finals, refused = [set(world.proposal(v)) for v in visits], []
    else:
        finals, refused = edit(model, world, visits, max_lines)
    pairs = list(zip(finals, [world.truth(v) for v in visits], strict=True))
    mean = lambda values: round(float(np.mean(values)), 4)  # noqa: E731
    return {
        "jaccard": mean([jaccard(a, b) for a, b in pairs]),
        "f1": mean([f1(a, b) for a, b in pairs]),
        "ddi_rate": mean([ddi_rate(a, world.interactions.interacting) for a in finals]),
        "list_length": round(float(np.mean([len(a) for a in finals])), 2),
        "refusal_rate": mean(refused) if refused else 0.0,
    }


def _save(config: FlameListConfig, rows: list[dict], report: dict) -> None:
    import csv

    import yaml

    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.yaml").write_text(yaml.safe_dump({"method": "flame-list", **asdict(config)}))
    columns = list(dict.fromkeys(k for r in rows for k in r))
    with (out / "metrics.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(rows)
    (out / "report.json").write_text(json.dumps(report, indent=2))
