"""When the LLM layer stops a run instead of handing failures back: a refused key, or a stage
in which too many requests failed.

A "stage" is one `chat_batch` / `structured_batch` call (an agent step for a whole cohort).
Single failures are the agents' business (they count them and fall back), but a backend
that refuses the key, is out of quota or is gone must not give a "finished" run in which
every agent fell back. So:

- 401/403 raises `LLMAuthError` at once (the rest of the batch is cancelled): retrying or
  asking again cannot help until the key is fixed.
- After a stage, when the share of its requests that failed exceeds `max_failure_rate`,
  `LLMFailureRateExceeded` pauses the run. Only requests that reached the backend count
  (cache hits are left out of both counts), and `invalid_schema` does not count: that is
  the model's own (cached, deterministic) answer, not a backend failure. The rule is per
  stage, whatever its size: in a stage of 1 to 4 requests ONE failure (after all its
  retries) is over 20% and pauses. That is deliberate: a resume asks only the failed
  requests again (answers are cached, failures never are), so a pause costs little, while
  a silent fallback changes the run's results for good.
- A server that died pauses the stage it died in, whatever the share (every later stage
  would fail anyway, and its unanswered requests would be dropped for good).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence

from recagora.agents.llm.contract import LLMResult
from recagora.item_space.errors import RunPaused

# Failure kinds that are the model's answer rather than the backend's failure.
MODEL_ANSWERS = ("invalid_schema",)
KEY_ENV_VAR = "OPENAI_API_KEY"
RATE_FIELD = "LLMConfig.max_failure_rate"
KEY_FIELD = "LLMConfig.api_key"


class LLMAuthError(RunPaused):
    """The backend refused the API key (401/403); the run stops at once, resumable once fixed."""

    exit_code = 2


class LLMFailureRateExceeded(RunPaused):
    """Too many requests of one stage failed; the run pauses (a resume re-asks only those).

    failed / asked: failed and uncached requests of the stage; kinds: failure kind -> count.
    """

    def __init__(self, message: str, failed: int = 0, asked: int = 0, kinds=None) -> None:
        super().__init__(message)
        self.failed, self.asked, self.kinds = failed, asked, dict(kinds or {})


def key_source(api_key_in_config: str | None) -> str:
    """Where the key sent came from, by name (never its value)."""
    if api_key_in_config:
        return KEY_FIELD
    return KEY_ENV_VAR if os.environ.get(KEY_ENV_VAR) else f"{KEY_ENV_VAR} (not set)"


def auth_error(spec: str, source: str, detail: str) -> LLMAuthError:
    """One line naming the spec and the key's source; `detail` is status + error class/code."""
    variable = source.split(" ")[0]
    return LLMAuthError(
        f"{spec} refused the API key from {source} ({detail}); "
        f"set {variable} to a valid key with access to this model, then try again"
    )


def stage_failure(
    results: Sequence[LLMResult], spec: str, limit: float, answers_cached: bool
) -> LLMFailureRateExceeded | None:
    """The pause a finished stage calls for, or None (see the module docstring for the rule).

    Args:
        results: the stage's results, one per request.
        spec: the backend spec, for the message.
        limit: `LLMConfig.max_failure_rate`; 1.0 (or more) never pauses.
        answers_cached: whether the stage's answers are in the response cache.
    """
    if limit >= 1.0:
        return None
    asked = [r for r in results if not r.cached]
    failed = [
        r.failure for r in asked if r.failure is not None and r.failure.kind not in MODEL_ANSWERS
    ]
    kinds = Counter(f.kind for f in failed)
    if not failed or (not kinds["server_died"] and len(failed) <= limit * len(asked)):
        return None
    top = kinds.most_common(1)[0][0]
    example = next(f.message for f in failed if f.kind == top)[:160]
    counts = ", ".join(f"{kind}: {n}" for kind, n in kinds.most_common())
    why = (
        "the server died" if kinds["server_died"] else f"over the {limit:.0%} limit ({RATE_FIELD})"
    )
    others = len(results) - len(failed)
    kept = f"the {others} other answers are cached and " if answers_cached and others else ""
    return LLMFailureRateExceeded(
        f"{len(failed)} of {len(asked)} requests to {spec} failed during this stage ({counts}), "
        f"{why}: {example}; {kept}a resume asks the failed ones again once the backend answers",
        failed=len(failed),
        asked=len(asked),
        kinds=kinds,
    )
