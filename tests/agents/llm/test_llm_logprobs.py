"""Probabilities from the first reply token's logprobs: parsing, caching, failures, and a
REAL llama.cpp server serving SmolLM2 (one forward pass per question)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from recagora.agents.llm import LLMRequest, open_llm
from recagora.agents.llm.logprobs import option_probabilities


def _ask(text: str) -> LLMRequest:
    return LLMRequest(messages=({"role": "user", "content": text},), max_tokens=1, top_logprobs=20)


def test_tokens_are_matched_to_answers_case_and_space_blind_and_renormalised():
    value = json.dumps(
        {"Yes": math.log(0.3), " yes": math.log(0.1), "No": math.log(0.2), "The": 0.0}
    )
    found = option_probabilities(value, ["yes", "no"])
    np.testing.assert_allclose(found.probabilities, [0.4 / 0.6, 0.2 / 0.6])
    assert found.mass == pytest.approx(0.6)
    assert option_probabilities(json.dumps({"Maybe": -0.1}), ["yes", "no"]) is None
    assert option_probabilities(None, ["yes", "no"]) is None


def test_scripted_logprobs_come_back_as_json_and_are_cached_under_their_own_key(tmp_path):
    scripted = json.dumps({"Yes": math.log(0.8), "No": math.log(0.2)})
    with open_llm("fake:", fake_replies=[scripted, "Yes"], cache_dir=tmp_path) as llm:
        first = llm.chat_batch_sync([_ask("Would you watch Alien?")])[0]
        plain = llm.ask("Would you watch Alien?", max_tokens=1)  # same words, no logprobs
        again = llm.chat_batch_sync([_ask("Would you watch Alien?")])[0]
    np.testing.assert_allclose(
        option_probabilities(first.value, ["yes", "no"]).probabilities, [0.8, 0.2]
    )
    assert plain.value == "Yes" and not plain.cached  # a different cache entry
    assert again.cached and again.value == first.value


def test_a_backend_that_sends_no_logprobs_fails_the_request_and_pauses_the_stage(tmp_path):
    from recagora.agents.llm.failures import LLMFailureRateExceeded

    refusing = pytest.raises(LLMFailureRateExceeded, match="other")
    with open_llm("fake:", fake_replies=["Yes"], cache_dir=tmp_path) as llm, refusing:
        llm.chat_batch_sync([_ask("Would you watch Alien?")])
    with open_llm("fake:", fake_replies=["Yes"], cache_dir=tmp_path, max_failure_rate=1.0) as llm:
        (result,) = llm.chat_batch_sync([_ask("Would you watch Alien?")])
    assert result.failure.kind == "other" and "no logprobs" in result.failure.message


@pytest.mark.llm
@pytest.mark.slow
def test_a_real_llama_cpp_server_gives_yes_no_and_rating_distributions(llama_server, tmp_path):
    with open_llm("openai:smollm2", base_url=llama_server.base_url, cache_dir=tmp_path) as llm:
        yes_no, rating = llm.chat_batch_sync(
            [
                _ask(
                    "A user loved Star Wars and Alien. Would they watch Blade Runner? Answer Yes or No."
                ),
                _ask(
                    "A user loved Star Wars. How would they rate Alien from 1 to 5? Answer with one digit."
                ),
            ]
        )
        again = llm.chat_batch_sync(
            [
                _ask(
                    "A user loved Star Wars and Alien. Would they watch Blade Runner? Answer Yes or No."
                )
            ]
        )[0]
    answer = option_probabilities(yes_no.value, ["yes", "no"])
    stars = option_probabilities(rating.value, list("12345"))
    assert answer is not None and answer.probabilities.sum() == pytest.approx(1.0)
    assert 0.0 < answer.mass <= 1.0 and yes_no.completion_tokens == 1
    assert stars is not None and len(stars.probabilities) == 5
    assert again.cached and again.value == yes_no.value  # deterministic and cached
