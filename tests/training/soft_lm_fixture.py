"""A tiny random Llama with a word-level tokenizer: the soft-token tests' fast LM."""

from __future__ import annotations

import torch

WORDS = ["the", "user", "with", "feature", "rates", "movie", "as", "stars", "explain", "why", "you", "like", "it", "because"]


def tiny_lm(seed: int = 0, vocab_words: list[str] | None = None, hidden: int = 32):
    """(model, tokenizer): a 2-layer LlamaForCausalLM (width `hidden`) over a word vocabulary."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    words = ["<pad>", "<eos>", "<unk>", *[str(d) for d in range(10)], ":", ".", ",", *(vocab_words or WORDS)]
    vocab = {w: i for i, w in enumerate(dict.fromkeys(words))}
    core = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation(), pre_tokenizers.Digits(True)]
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core, pad_token="<pad>", eos_token="<eos>", unk_token="<unk>"
    )
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(vocab), hidden_size=hidden, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
        pad_token_id=0, eos_token_id=1, bos_token_id=1, tie_word_embeddings=False,
        initializer_range=0.3,  # a random LM whose outputs depend on its inputs
    )
    return LlamaForCausalLM(config).eval(), tokenizer
