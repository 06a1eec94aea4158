"""The LLM user agent (TriRec, Gong et al., arXiv 2603.10673, stage 1), one concurrent batch per step.

- score: every active user scores its K candidates 0-10 (`user_score.jinja`); replies that
  miss or repeat IDs, or fail the schema, are asked again up to `max_retries` times with a
  hint naming the offending IDs; still-unscored candidates get 0 (the paper's tail rule).
  Of a user's attempts the one scoring the most candidates is kept (latest on ties).
- respond: the user picks at most `max_choices` items of its slate and rates its
  satisfaction 0-10 (`user_respond.jinja`); an invalid reply counts and means "nothing
  consumed, satisfaction unchanged".
- reflect: consumed items join the history, `satisfaction.py` decides exits, and each user
  rewrites its memory in <= `memory_words` words (AgentCF-style reflection, TriRec's
  offline stage, here online after every round; `user_reflect.jinja`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from recagora.agents.llm.contract import LLMClient, LLMRequest, LLMResult
from recagora.agents.llm.logprobs import option_probabilities
from recagora.agents.prompts import render
from recagora.agents.roles.base import (
    ItemFacts,
    Promotions,
    Responses,
    Scores,
    UserCohort,
    append_consumed,
)
from recagora.agents.roles.persona import consume_verbs
from recagora.agents.roles.replies import (
    MemoryReply,
    RespondReply,
    ScoreCheck,
    ScoreReply,
    as_score_reply,
    check_scores,
    keyed_score_reply,
    retry_hint,
)
from recagora.agents.roles.satisfaction import PatienceConfig, update_patience
from recagora.item_space.errors import ConfigError, did_you_mean

SCORE_FORMATS = ("list", "keyed", "logprob")
LOGPROB_ALTERNATIVES = 20  # first-token alternatives asked for with score_format=logprob


@dataclass(frozen=True)
class LLMUserConfig:
    """Prompts and limits of the LLM user agent."""

    domain: str = field(
        default="",
        metadata={
            "help": "What the catalog holds, as the prompts name it; empty = the scenario's domain (or 'items')."
        },
    )
    max_retries: int = field(
        default=3,
        metadata={"help": "Re-asks of a score reply that misses or repeats IDs (paper: 3)."},
    )
    score_format: str = field(
        default="list",
        metadata={
            "help": "Score reply form: 'list' = the paper's [{id, score}, ...]; 'keyed' = one field per candidate (id_1..id_K), which constrained decoding forces complete (for small models); 'logprob' = 10 x P(yes) to 'would you ...?' per candidate, read from one forward pass (needs a backend that returns logprobs)."
        },
    )
    max_choices: int = field(
        default=1, metadata={"help": "Most items a user consumes from one slate."}
    )
    memory_words: int = field(
        default=150,
        metadata={"help": "Target length of a rewritten memory, in words (paper: 150)."},
    )
    reject_memory_words: int = field(
        default=220,
        metadata={"help": "A rewritten memory longer than this is rejected (memory kept)."},
    )
    reflect: bool = field(
        default=True,
        metadata={"help": "Rewrite the memory after each round (False: history and exits only)."},
    )
    temperature: float = field(
        default=0.7, metadata={"help": "LLM sampling temperature (paper: 0.7)."}
    )
    max_tokens: int = field(
        default=400, metadata={"help": "Reply budget of one request, in tokens."}
    )
    seed: int = field(default=0, metadata={"help": "Seed sent with every request."})
    patience: PatienceConfig = field(
        default_factory=PatienceConfig, metadata={"help": "Satisfaction smoothing and exit rule."}
    )

    def __post_init__(self) -> None:
        if self.score_format not in SCORE_FORMATS:
            raise ConfigError(
                f"unknown llm_user.score_format {self.score_format!r}"
                f"{did_you_mean(self.score_format, SCORE_FORMATS)}; use one of {', '.join(SCORE_FORMATS)}"
            )


def _meta(result: LLMResult) -> dict:
    """What an event records of one LLM call."""
    return {
        "call_id": result.call_id,
        "cached": result.cached,
        "tokens": result.prompt_tokens + result.completion_tokens,
        "failure": result.failure.kind if result.failure else None,
    }


class LLMUserAgent:
    """An LLM plays every user; `llm` is the run's client (one batch per step).

    Args:
        facts: catalog facts (titles for the prompts, vectors for the history).
        llm: any `LLMClient` (`recagora.agents.llm.open_llm(spec)`).
    """

    name = "llm"

    def __init__(
        self, facts: ItemFacts, llm: LLMClient, config: LLMUserConfig | None = None
    ) -> None:
        self.facts, self.llm = facts, llm
        self.config = config or LLMUserConfig()

    def _request(self, memory: str, prompt: str, tag: str, attempt: int = 0) -> LLMRequest:
        system = render("user_system", domain=self.config.domain or "items", memory=memory)
        return LLMRequest(
            messages=({"role": "system", "content": system}, {"role": "user", "content": prompt}),
            temperature=self.config.temperature,
            max_tokens=self.config.max_tokens,
            seed=self.config.seed,
            sample_index=attempt,
            tag=tag,
        )

    def _listing(self, items: list[int], ads: list[str]) -> list[dict]:
        rows = []
        for n, (i, ad) in enumerate(zip(items, ads, strict=True), start=1):
            title = self.facts.catalog[i].title
            rows.append({"number": n, "title": title, "ad": ad_after_title(title, ad)})
        return rows

    async def score(
        self, cohort: UserCohort, idx: np.ndarray, candidates: np.ndarray, promotions: Promotions
    ) -> Scores:
        """(m, K) scores 0-10 with TriRec's retry-with-hint rule; invalid replies are counted."""
        if self.config.score_format == "logprob":
            return await self._logprob_scores(cohort, idx, candidates, promotions)
        m, k = candidates.shape
        best: list[ScoreCheck | None] = [None] * m
        reasons, hints = [""] * m, [""] * m
        log: list[list[dict]] = [[] for _ in range(m)]
        pending = list(range(m))
        for attempt in range(self.config.max_retries + 1):
            if not pending:
                break
            requests = [
                self._score_request(
                    cohort, idx[r], candidates[r], promotions.row(r), hints[r], attempt
                )
                for r in pending
            ]
            results = await self.llm.structured_batch(requests, self._score_schema(k))
            pending = self._absorb_scores(pending, results, k, best, reasons, hints, log)
        return self._scores(cohort, idx, candidates, best, reasons, log)

    async def _logprob_scores(
        self, cohort: UserCohort, idx: np.ndarray, candidates: np.ndarray, promotions: Promotions
    ) -> Scores:
        """score_format=logprob: score = 10 x P(yes) of "would you ...?" for each candidate,
        from the first reply token's probabilities (one token per question, no sampling);
        a reply whose first token is neither yes nor no leaves that candidate at 0."""
        m, k = candidates.shape
        verb = consume_verbs(self.config.domain or "items")[0]
        requests = []
        for r, user in enumerate(idx.tolist()):
            ads = promotions.row(r)
            for j, item in enumerate(candidates[r].tolist()):
                prompt = render(
                    "user_score_logprob",
                    verb=verb,
                    title=(title := self.facts.catalog[item].title),
                    ad=ad_after_title(title, ads[j]),
                )
                request = self._request(cohort.memories[user], prompt, "user_agent.score")
                requests.append(
                    replace(
                        request, temperature=0.0, max_tokens=1, top_logprobs=LOGPROB_ALTERNATIVES
                    )
                )
        results = await self.llm.chat_batch(requests)
        scores, answered = np.zeros((m, k)), np.zeros((m, k), bool)
        log: list[list[dict]] = [[] for _ in range(m)]
        for n, result in enumerate(results):
            r, j = divmod(n, k)
            found = option_probabilities(result.value, ("yes", "no")) if result.ok else None
            log[r].append({**_meta(result), "yes_mass": found.mass if found else 0.0})
            if found is not None:
                scores[r, j], answered[r, j] = 10.0 * found.probabilities[0], True
        best = [
            ScoreCheck({j + 1: scores[r, j] for j in range(k) if answered[r, j]},
                       tuple(j + 1 for j in range(k) if not answered[r, j]), (), ())
            for r in range(m)
        ]  # fmt: skip
        return self._scores(cohort, idx, candidates, best, [""] * m, log)

    def _score_schema(self, k: int) -> type:
        return keyed_score_reply(k) if self.config.score_format == "keyed" else ScoreReply

    def _score_request(
        self, cohort, user: int, items, ads: list[str], hint: str, attempt: int
    ) -> LLMRequest:
        prompt = render(
            "user_score",
            candidates=self._listing(items.tolist(), ads),
            hint=hint,
            keyed=self.config.score_format == "keyed",
        )
        return self._request(cohort.memories[user], prompt, "user_agent.score", attempt)

    @staticmethod
    def _absorb_scores(pending, results, k, best, reasons, hints, log) -> list[int]:
        """Keep each user's most complete reply; return the users to ask again (with their hints)."""
        again = []
        for r, result in zip(pending, results, strict=True):
            reply = as_score_reply(result.value) if result.ok else None
            check = check_scores(reply, k) if reply is not None else None
            log[r].append(
                {
                    **_meta(result),
                    **(
                        {"missing": list(check.missing), "duplicated": list(check.duplicated)}
                        if check
                        else {}
                    ),
                }
            )
            if check is not None and (best[r] is None or len(check.scores) >= len(best[r].scores)):
                best[r], reasons[r] = check, reply.reason
            if check is None or not check.complete:
                hints[r] = retry_hint(check, k)
                again.append(r)
        return again

    def _scores(self, cohort, idx, candidates, best, reasons, log) -> Scores:
        m, k = candidates.shape
        scores = np.zeros((m, k))
        for r, check in enumerate(best):
            for number, value in (check.scores if check else {}).items():
                scores[r, number - 1] = value
        complete = np.array([b is not None and not b.missing for b in best], bool)
        events = [
            {
                "role": "user",
                "impl": self.name,
                "kind": "score",
                "user": cohort.keys[u],
                "candidates": candidates[r].tolist(),
                "scores": scores[r].tolist(),
                "complete": bool(complete[r]),
                "attempts": len(log[r]),
                "invalid_replies": sum(a["failure"] is not None for a in log[r]),
                "reason": reasons[r],
                "calls": log[r],
            }
            for r, u in enumerate(idx.tolist())
        ]
        return Scores(scores=scores, complete=complete, reasons=reasons, events=events)

    async def respond(
        self,
        cohort: UserCohort,
        idx: np.ndarray,
        slates: np.ndarray,
        promotions: Promotions,
        rng: np.random.Generator,
    ) -> Responses:
        """Each user picks from its slate and rates it; invalid replies consume nothing."""
        requests = [
            self._request(
                cohort.memories[u],
                render(
                    "user_respond",
                    slate=self._listing(slates[r].tolist(), promotions.row(r)),
                    max_choices=self.config.max_choices,
                ),
                "user_agent.respond",
            )
            for r, u in enumerate(idx.tolist())
        ]
        results = await self.llm.structured_batch(requests, RespondReply)
        chosen = np.full(len(idx), -1, np.int64)
        satisfaction = cohort.satisfaction[idx].astype(np.float64)
        events = []
        for r, (u, result) in enumerate(zip(idx.tolist(), results, strict=True)):
            if result.ok:
                picks = [n for n in result.value.chosen if 1 <= n <= slates.shape[1]][
                    : self.config.max_choices
                ]
                chosen[r] = slates[r, picks[0] - 1] if picks else -1
                satisfaction[r] = result.value.satisfaction / 10.0
            events.append(
                {
                    "role": "user",
                    "impl": self.name,
                    "kind": "respond",
                    "user": cohort.keys[u],
                    "chosen": int(chosen[r]),
                    "q": float(satisfaction[r]),
                    "invalid_reply": not result.ok,
                    **_meta(result),
                }
            )
        return Responses(chosen=chosen, round_satisfaction=satisfaction, events=events)

    async def reflect(
        self,
        cohort: UserCohort,
        idx: np.ndarray,
        slates: np.ndarray,
        responses: Responses,
        rng: np.random.Generator,
    ) -> tuple[UserCohort, list[dict]]:
        """History, exits, then one memory rewrite per user (rejected rewrites keep the memory)."""
        consumed = [[int(c)] if c >= 0 else [] for c in responses.chosen.tolist()]
        cohort = append_consumed(cohort, self.facts, idx, consumed)
        cohort, left = update_patience(cohort, idx, responses, self.config.patience, rng)
        events = [
            {"role": "user", "impl": self.name, "kind": "leave", "user": cohort.keys[u]}
            for u, gone in zip(idx.tolist(), left, strict=True)
            if gone
        ]
        if not self.config.reflect or not len(idx):
            return cohort, events
        memories, rewrite_events = await self._rewrite_memories(cohort, idx, slates, responses)
        return replace(cohort, memories=memories), events + rewrite_events

    async def _rewrite_memories(
        self, cohort, idx, slates, responses
    ) -> tuple[tuple[str, ...], list[dict]]:
        title = self.facts.catalog
        requests = []
        for r, u in enumerate(idx.tolist()):
            chosen = [title[int(responses.chosen[r])].title] if responses.chosen[r] >= 0 else []
            skipped = [title[i].title for i in slates[r, :5].tolist() if i != responses.chosen[r]]
            prompt = render(
                "user_reflect",
                memory=cohort.memories[u],
                chosen=chosen,
                skipped=skipped,
                max_words=self.config.memory_words,
            )
            requests.append(self._request(cohort.memories[u], prompt, "user_agent.reflect"))
        results = await self.llm.structured_batch(requests, MemoryReply)
        memories, events = list(cohort.memories), []
        for u, result in zip(idx.tolist(), results, strict=True):
            text = result.value.memory.strip() if result.ok else ""
            accepted = 0 < len(text.split()) <= self.config.reject_memory_words
            if accepted:
                memories[u] = text
            events.append(
                {
                    "role": "user",
                    "impl": self.name,
                    "kind": "reflect",
                    "user": cohort.keys[u],
                    "accepted": accepted,
                    "invalid_reply": not result.ok,
                    **_meta(result),
                }
            )
        return tuple(memories), events


def ad_after_title(title: str, ad: str) -> str:
    """The ad without a leading copy of the title the line already shows.

    An ad that is the item's own facts (mode none) or an LLM ad opening with the name
    repeated the title on every candidate line: 111 input tokens per score or respond
    request at K = 10 (docs/scale-plan.md).
    """
    if ad.startswith(title):
        return ad[len(title) :].lstrip(" .:-") or ad
    return ad
