"""TriRec's three roles (user, item, platform), each with an LLM and a surrogate implementation.

Pick implementations with `recagora.agents.registry.parse_agent_spec("item=llm", default)`
(default: TriRec's `DEFAULT_AGENTS`) and `resolve(role, impl)`. Every role is PURE: state in, new state + events out; no file
I/O, no LangGraph. All arrays are aligned with `idx` (m,) = cohort rows handled this call.

Setup (once per episode)::

    facts = ItemFacts.from_catalog(catalog)                # catalog.vectors + training popularity
    cohort = build_cohort(facts, keys, train_histories, [persona_memory(facts, h.items, h.ratings)
                                                          for h in train_histories])
    user = SurrogateUserAgent(facts, choice_model, embedder)     # or LLMUserAgent(facts, llm, cfg)
    item = TemplateItemAgent(facts, ItemAgentConfig(mode=...))  # or LLMItemAgent(facts, llm, cfg)
    platform = TriRecPlatform(facts, source=item_space)         # any .neighbours_batch or Recommender
    item_state = item.init_state(); exposure = platform.init_exposure()

One round (rng: a seeded np.random.Generator per round; targets only in the paper protocol)::

    idx = cohort.active_indices()                                          # (m,)
    cands = platform.candidates(cohort, idx, rng, targets=None)            # (m, K) int64
    promos = await item.promote(item_state, cohort, idx, cands)            # Promotions: .ids (m, K) rows of .table
    scores = await user.score(cohort, idx, cands, promos)                  # Scores .scores (m, K) 0-10
    ranked = platform.rerank(exposure, cohort, idx, cands, scores)         # Reranked .slates/.order (m, K)
    exposure = ranked.exposure                                             # persists across rounds
    shown = promos.take(ranked.order)                                      # promotions aligned with slates
    resp = await user.respond(cohort, idx, ranked.slates, shown, rng)      # Responses .chosen (m,) -1 = none
    cohort, ev = await user.reflect(cohort, idx, ranked.slates, resp, rng) # history, memory, satisfaction, exits
    item_state, ev = await item.update_memory(item_state, cohort, idx, cands, promos)

Each output has `.events` (list of JSON-able dicts with role/impl/kind); `reflect` and
`update_memory` return theirs beside the new state. LLM roles send ONE concurrent batch
per step through `LLMClient.structured_batch` (the user score step may add up to three
retry batches for users whose reply missed candidates).
"""
