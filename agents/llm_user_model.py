"""An LLM as a `UserModel`: probabilities from one forward pass per question.

The fidelity suite scores probabilities (choice log-likelihood, calibration, rating
distributions), and a sampled answer is one draw from the model's own distribution.
So every question here is asked once, with `top_logprobs` (see
`agents/llm/logprobs.py`), and the answer's probability is read off the first token:

- interest: "Would you watch X? Answer Yes or No." -> P(yes);
- choice among K candidates: each candidate's P(yes), normalised over the row (K
  questions per user, one concurrent batch for the whole cohort);
- rating: "How many stars do you give X, from 1 to 5?" -> the distribution over the
  digits (datasets whose levels are not single digits get no rating section).

The persona is built from the TRAINING history handed in (recent titles, top
categories), never from a held-out item. A question whose first token holds no
allowed answer counts as a failure and falls back to the uninformative answer
(P(yes) = 0.5, uniform stars); `failures` counts them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from recagora.agents.llm.contract import LLMClient, LLMRequest
from recagora.agents.llm.logprobs import option_probabilities
from recagora.agents.prompts import render
from recagora.agents.roles.persona import consume_verbs
from recagora.item_space.types import Catalog

TOP_LOGPROBS = 20  # llama.cpp and OpenAI both accept 20


class LLMUserModel:
    """`UserModel` over any LLM backend that returns logprobs (llama.cpp, vLLM, OpenAI).

    Args:
        catalog: the dataset's items (titles and categories for the prompts).
        llm: an opened LLM client.
        domain: what the catalog holds, as the prompts name it ("movies", ...).
        recent: how many of the most recent training titles the persona names.
    """

    name = "llm"

    def __init__(
        self, catalog: Catalog, llm: LLMClient, domain: str = "movies", recent: int = 10
    ) -> None:
        self.catalog, self.llm, self.domain, self.recent = catalog, llm, domain, recent
        self.verb, self.verb_past = consume_verbs(domain)
        self.failures = 0
        self.questions = 0

    # ---- UserModel ----------------------------------------------------------------

    def interest_probabilities(
        self, users: Sequence[int], histories: Sequence[Sequence[int]], items: np.ndarray
    ) -> np.ndarray:
        personas = [self.persona(history) for history in histories]
        prompts = [
            self._interest_prompt(persona, int(item))
            for persona, item in zip(personas, np.asarray(items), strict=True)
        ]
        return self._yes_probabilities(prompts)

    def choice_probabilities(
        self, users: Sequence[int], histories: Sequence[Sequence[int]], candidates: np.ndarray
    ) -> np.ndarray:
        yes = self.yes_probabilities(users, histories, candidates)
        return yes / np.maximum(yes.sum(axis=1, keepdims=True), 1e-12)

    def yes_probabilities(
        self, users: Sequence[int], histories: Sequence[Sequence[int]], candidates: np.ndarray
    ) -> np.ndarray:
        """(n, K) P(yes) of each user for each of its candidates, asked one item at a time
        (before the row normalisation `choice_probabilities` applies)."""
        candidates = np.asarray(candidates)
        personas = [self.persona(history) for history in histories]
        prompts = [
            self._interest_prompt(personas[row], int(item))
            for row in range(len(personas))
            for item in candidates[row]
        ]
        return self._yes_probabilities(prompts).reshape(candidates.shape)

    def rating_probabilities(
        self,
        users: Sequence[int],
        histories: Sequence[Sequence[int]],
        items: np.ndarray,
        levels: np.ndarray,
    ) -> np.ndarray | None:
        digits = [str(int(level)) for level in np.asarray(levels)]
        if any(len(d) != 1 or float(d) != float(lv) for d, lv in zip(digits, levels, strict=True)):
            return None  # only single-digit integer scales are one token
        prompts = [
            render(
                "user_probe_rating",
                persona=self.persona(history),
                verb_past=self.verb_past,
                title=self.catalog[int(item)].title,
                categories=self._categories(int(item)),
                lowest=digits[0],
                highest=digits[-1],
            )
            for history, item in zip(histories, np.asarray(items), strict=True)
        ]
        return self._option_probabilities(prompts, digits, "user_model.rating")

    # ---- prompts ------------------------------------------------------------------

    def persona(self, history: Sequence[int]) -> str:
        """First-person persona from the TRAINING history: recent titles, top categories."""
        recent = [int(i) for i in history][-self.recent :]
        counts = Counter(c for i in history for c in self.catalog[int(i)].categories)
        return render(
            "user_persona",
            domain=self.domain,
            liked=[self.catalog[i].title for i in recent],
            disliked=[],
            categories=[label for label, _ in counts.most_common(3)],
        )

    def _interest_prompt(self, persona: str, item: int) -> str:
        return render(
            "user_probe_interest",
            persona=persona,
            verb=self.verb,
            title=self.catalog[item].title,
            categories=self._categories(item),
        )

    def _categories(self, item: int) -> list[str]:
        return list(self.catalog[item].categories)[:3]

    def _yes_probabilities(self, prompts: list[str]) -> np.ndarray:
        return self._option_probabilities(prompts, ["yes", "no"], "user_model.interest")[:, 0]

    def _option_probabilities(self, prompts: list[str], options: list[str], tag: str) -> np.ndarray:
        requests = [
            LLMRequest(
                messages=({"role": "user", "content": prompt},),
                max_tokens=1,
                top_logprobs=TOP_LOGPROBS,
                tag=tag,
            )
            for prompt in prompts
        ]
        results = self.llm.chat_batch_sync(requests) if requests else []
        out = np.full((len(prompts), len(options)), 1.0 / len(options))
        for row, result in enumerate(results):
            found = option_probabilities(result.value, options) if result.ok else None
            if found is None:
                self.failures += 1
            else:
                out[row] = found.probabilities
        self.questions += len(prompts)
        return out
