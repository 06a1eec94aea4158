"""MindRec (Gao et al., arXiv 2511.12597): masked diffusion over category path + semantic ID."""
