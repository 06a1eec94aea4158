"""PaperEval's trainable scorer: frozen backbone features -> latent reasoning -> MLP score.

Zheng et al., "Navigating Through Paper Flood: Advancing LLM-based Paper Evaluation
through Domain-aware Retrieval and Latent Reasoning", AAAI'26 (arXiv 2508.05129).
"""
