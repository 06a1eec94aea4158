"""`vllm:` starts `vllm serve` on loopback; needs the optional vllm package and a CUDA GPU."""

from __future__ import annotations

import importlib.util
import shutil
from typing import Literal

import pytest
from pydantic import BaseModel

from recagora.agents.llm import LLMRequest, open_llm
from recagora.item_space.errors import ModelError

VLLM_MODEL = "Qwen/Qwen2.5-0.5B-Instruct"
HAS_VLLM_AND_GPU = (
    importlib.util.find_spec("vllm") is not None and shutil.which("nvidia-smi") is not None
)


class Answer(BaseModel):
    answer: Literal["yes", "no"]


@pytest.mark.skipif(
    HAS_VLLM_AND_GPU, reason="checks the error shown where vllm or a GPU is missing"
)
def test_missing_vllm_or_gpu_is_a_one_line_error_naming_the_fix():
    with pytest.raises(ModelError) as error:
        open_llm("vllm:Qwen/Qwen2.5-0.5B-Instruct")
    message = str(error.value)
    assert "\n" not in message and "llamacpp:smollm2" in message


@pytest.mark.gpu
@pytest.mark.skipif(not HAS_VLLM_AND_GPU, reason="needs the vllm package and a CUDA GPU")
def test_vllm_serves_structured_replies_with_json_schema(tmp_path):
    requests = [
        LLMRequest(
            messages=({"role": "user", "content": f"Is {n} an even number?"},), max_tokens=16
        )
        for n in range(16)
    ]
    with open_llm(f"vllm:{VLLM_MODEL}", cache_dir=tmp_path, concurrency=16) as llm:
        results = llm.structured_batch_sync(requests, Answer)
        summary = llm.ledger_summary()
    assert all(r.ok for r in results)
    assert summary["structured_mode"] == "json_schema" and summary["repairs"] == 0
