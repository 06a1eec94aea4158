"""PUMA (Zhao et al., AAAI 2026, "Don't Start Over"): per-user soft prompts migrated between LLMs.

Stage 1 trains one soft prompt (l = 1) per user on backbone A for rating prediction;
stage 2 trains a migration adapter into backbone B on a user subset chosen by K-means
over the source prompts x rating-variance bins, instead of retraining every prompt on B.
"""
