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


@pytest.mark.parametrize(
    ("visible", "gpus", "extra", "expected"),
    [
        (None, 4, [], [({"CUDA_VISIBLE_DEVICES": str(i)}, []) for i in range(3)]),
        ("5,7,9", 8, [], [({"CUDA_VISIBLE_DEVICES": d}, []) for d in ("5", "7", "9")]),
        (None, 1, [], [({}, ["--gpu-memory-utilization", "0.300"])] * 3),
        (None, 1, ["--gpu-memory-utilization=0.2"], [({}, [])] * 3),
    ],
)
def test_vllm_replicas_get_a_gpu_each_or_a_share_of_one(
    monkeypatch, visible, gpus, extra, expected
):
    from recagora.agents.llm import servers

    monkeypatch.setattr(servers, "_cuda_gpu_count", lambda: gpus)
    if visible is None:
        monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    else:
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
    assert [servers._replica_placement((i, 3), extra) for i in range(3)] == expected
    assert servers._replica_placement((0, 1), extra) == ({}, [])
