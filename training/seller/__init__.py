"""SELLER (Zhang, Teng and Gao 2026, "Sequence-aware LLMs for Explainable Recommendation").

Reconstructed (the paper's code was not reachable; ../shared reference section 4): path 1
a SASRec-style encoder of the user's sequence with time-gap embeddings, path 2 the item's
text embedding, fused by an XRec-style dense mixture-of-experts adapter into k soft
tokens of a frozen LM that generates the explanation.
"""
