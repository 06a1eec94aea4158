"""Model price table: USD per million tokens (input, output), for the ledger and the dry run.

Source: the providers' public price pages, standard (non-batch, uncached-input) rates:
  OpenAI  https://openai.com/api/pricing/  (gpt-4o, gpt-4o-mini, gpt-4.1-mini, gpt-4.1-nano)
Checked 2026-11 (the date the table was last compared with those pages; prices change,
so override or extend it per run with `LLMConfig.prices` / `open_llm(prices=...)`).
Local backends (llamacpp:, vllm:, fake:) cost 0 whatever the table says: the ledger
prices only `openai:` specs, looked up by the model name in the spec.
"""

from __future__ import annotations

PRICES_CHECKED = "2026-11"
PRICE_SOURCE = "https://openai.com/api/pricing/"

DEFAULT_PRICES_PER_MTOK: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
}


def price_of(model: str, prices: dict[str, tuple[float, float]] | None = None):
    """(USD per 1M input, per 1M output) of `model`, or None when no table names it."""
    return (prices if prices is not None else DEFAULT_PRICES_PER_MTOK).get(model)
