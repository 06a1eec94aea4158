"""The registered scenarios' compiled graphs, for LangGraph's own tooling (`langgraph.json`).

`langgraph dev` / LangGraph Studio load `./experiments/langgraph_app.py:<scenario>` and
draw the graph. Running an episode needs its context (the prepared world: dataset, item
space, agents), which `recagora run` builds through `experiments.runner`; these objects
are for inspecting the wiring, not for playing episodes.
"""

from __future__ import annotations

from recagora.environments.registry import get_scenario

trirec = get_scenario("trirec").build_graph().compile()
grounded = get_scenario("grounded").build_graph().compile()
papereval = get_scenario("papereval").build_graph().compile()
clinic = get_scenario("clinic").build_graph().compile()
explain = get_scenario("explain").build_graph().compile()
