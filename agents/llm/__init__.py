"""LLM backends behind one spec string (floor 2). See `contract.py` for the API agents use.

    from recagora.agents.llm import LLMRequest, open_llm
    with open_llm("llamacpp:smollm2") as llm:        # or "openai:gpt-4o-mini", "vllm:...", "fake:"
        results = await llm.structured_batch(requests, MySchema)

`open_llm`, `LLMLayerClient` and `LLMConfig` load lazily, so importing the contract
types does not import `openai` or langchain.
"""

from recagora.agents.llm.contract import LLMClient, LLMFailure, LLMRequest, LLMResult

_LAZY = {
    "open_llm": "recagora.agents.llm.client",
    "LLMLayerClient": "recagora.agents.llm.client",
    "LLMConfig": "recagora.agents.llm.config",
}

__all__ = [
    "LLMClient",
    "LLMConfig",
    "LLMFailure",
    "LLMLayerClient",
    "LLMRequest",
    "LLMResult",
    "open_llm",
]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'recagora.agents.llm' has no attribute {name!r}")
