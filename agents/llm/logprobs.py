"""Probabilities read off one forward pass: the first reply token's log-probabilities.

An LLM user asked "would you watch X? Answer Yes or No" is judged by the suite on
probabilities, and a sampled "Yes" is one draw of a coin whose bias is the answer.
Every OpenAI-compatible server (OpenAI, vLLM, llama.cpp's server) returns, on
request, the log-probabilities of the likeliest first tokens (`logprobs=True,
top_logprobs=N`), so P(yes) or a distribution over rating digits costs one token,
is deterministic, and is cached like any reply. `LLMRequest.top_logprobs = N` asks
for them; the result's value is the JSON object {token: logprob}, and
`option_probabilities` turns it into probabilities over the answers a prompt allows.

Tokens are matched to answers after stripping spaces and punctuation and ignoring
case ("Yes", " yes", "YES." all count for "yes"); the probabilities are renormalised
over the allowed answers, and `mass` says how much of the first token's probability
they held (a model that mostly answers something else is visible in the events).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from recagora.agents.llm.contract import LLMFailure, LLMResult

NO_LOGPROBS = (
    "the backend sent no logprobs for a request that asked for them (the server does not "
    "support them); use a server that does (llama.cpp, vLLM, OpenAI) or another score format"
)


def logprob_result(
    text: str, top_logprobs: dict[str, float] | None, prompt_tokens: int, completion_tokens: int
) -> LLMResult[str]:
    """The result of a logprob request: value = JSON {token: logprob}, or a failure.

    A backend that sends no logprobs fails the request, except that a reply which IS
    such a JSON object is taken as it stands (scripted `fake:` replies in tests).
    """
    counts = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens}
    if top_logprobs is None:
        top_logprobs = _scripted(text)
    if not top_logprobs:
        return LLMResult(value=None, text=text, failure=LLMFailure("other", NO_LOGPROBS), **counts)
    payload = json.dumps(top_logprobs, sort_keys=True)
    return LLMResult(value=payload, text=payload, **counts)


@dataclass(frozen=True)
class OptionProbabilities:
    """probabilities: over the allowed answers, in their order (sums to 1);
    mass: the share of the first token's probability that fell on them."""

    probabilities: np.ndarray
    mass: float


def option_probabilities(value: str | None, options: Sequence[str]) -> OptionProbabilities | None:
    """Probabilities of `options` from a logprob result's value; None when no option
    appears among the returned tokens (or the value is missing)."""
    if not value:
        return None
    top = json.loads(value)
    wanted = [_normalised(option) for option in options]
    mass = np.zeros(len(options))
    for token, logprob in top.items():
        key = _normalised(token)
        if key in wanted:
            mass[wanted.index(key)] += math.exp(float(logprob))
    total = float(mass.sum())
    if total <= 0.0:
        return None
    return OptionProbabilities(mass / total, total)


def _normalised(token: str) -> str:
    return "".join(ch for ch in token.strip().lower() if ch.isalnum())


def _scripted(text: str) -> dict[str, float] | None:
    try:
        parsed = json.loads(text)
    except (ValueError, TypeError):
        return None
    if (
        isinstance(parsed, dict)
        and parsed
        and all(isinstance(v, int | float) for v in parsed.values())
    ):
        return {str(k): float(v) for k, v in parsed.items()}
    return None
