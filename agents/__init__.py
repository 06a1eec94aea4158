"""RecAgora floor 2: agents. `llm/` is the LLM layer; `roles/` holds the TriRec roles
(see `recagora.agents.roles` for the per-round call sequence); `registry.py` picks an
implementation per role; `surrogate/` is the fitted no-LLM user model; `rerank.py` is
TriRec's closed-form re-ranker; `prompts/` holds the prompt templates."""
