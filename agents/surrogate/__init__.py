"""Surrogate (no-LLM) user model: a conditional-logit choice model fitted on the training split."""
