"""User-model names -> factories for the fidelity suite (floor 4 may import agents).

    random, popularity   the baselines (item_space.fidelity.baselines)
    learned              the learned user (agents.user_models)
    surrogate, v0        the v0 surrogate user (agents.user_models)
    llm                  an LLM answering from one forward pass (agents.llm_user_model; --llm)

Agent models are imported lazily: a name whose module has not landed is a one-line error.
A factory builds its model from a split's training part; the suite calls it once per
split it scores (the held-out split, then each ML-100K fold).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from recagora.environments.config_checks import domain_of
from recagora.item_space.errors import ConfigError, ModelError, did_you_mean
from recagora.item_space.fidelity.baselines import baseline_factories

BASELINES = ("random", "popularity")
AGENT_MODELS = ("learned", "surrogate", "v0")
LLM_MODELS = ("llm",)
USER_MODELS = (*BASELINES, *AGENT_MODELS, *LLM_MODELS)
DEFAULT_AGENTS = "user=learned"
NOT_ON_FOLDS = LLM_MODELS  # 5 x 20,000 rating questions: too slow for an LLM user


def parse_user_models(text: str) -> list[str]:
    """'user=learned,user=v0' -> ['learned', 'v0'] (ConfigError on any other form)."""
    names = []
    for part in (piece.strip() for piece in text.split(",")):
        role, _, name = part.partition("=")
        if role.strip() != "user" or not name.strip():
            raise ConfigError(
                f"--agents {text!r}: expected user=MODEL[,user=MODEL...] (e.g. user=learned,user=v0)"
            )
        name = name.strip()
        if name not in USER_MODELS:
            raise ConfigError(
                f"unknown user model {name!r}{did_you_mean(name, USER_MODELS)}; user models: {', '.join(USER_MODELS)}"
            )
        if name in names:
            raise ConfigError(f"--agents names user={name} twice")
        names.append(name)
    return names


def check_llm_option(names: list[str], llm: str | None) -> None:
    """An LLM user needs --llm; --llm without one is a mistake worth a line."""
    if any(name in LLM_MODELS for name in names) and not llm:
        raise ConfigError("user=llm needs --llm SPEC (e.g. --llm llamacpp:smollm2)")
    if llm and not any(name in LLM_MODELS for name in names):
        raise ConfigError("--llm is only used by user=llm; add it to --agents or drop --llm")


def model_factories(
    names: list[str], dataset: Any, seed: int, llm: str | None, stack: ExitStack, name: str
) -> dict[str, Callable]:
    """name -> factory(split) for every requested model (baselines the suite adds itself).

    name: the dataset's registry name (it picks the LLM prompts' domain, e.g. "movies")."""
    baselines = baseline_factories(len(dataset.catalog), seed)
    factories: dict[str, Callable] = {}
    for model in names:
        if model in BASELINES:
            factories[model] = baselines[model]
        elif model in LLM_MODELS:
            factories[model] = _llm_factory(dataset, llm, stack, domain_of(name))
        else:
            factories[model] = _agent_factory(model, dataset, seed)
    return factories


def _agent_factory(name: str, dataset: Any, seed: int) -> Callable:
    try:
        from recagora.agents.user_models import build_user_model
    except ImportError as error:
        raise ModelError(
            f"user model {name!r} is not available in this checkout (agents.user_models: {error})"
        ) from None

    def build(split):
        # The suite shows its own progress bar; a second live display would clash.
        return build_user_model(name, dataset, split, seed=seed, show_progress=False)

    return build


def _llm_factory(dataset: Any, spec: str | None, stack: ExitStack, domain: str) -> Callable:
    try:
        from recagora.agents.llm import open_llm
        from recagora.agents.llm_user_model import LLMUserModel
    except ImportError as error:
        raise ModelError(f"user model 'llm' is not available in this checkout ({error})") from None
    client = stack.enter_context(open_llm(spec))
    return lambda split: LLMUserModel(dataset.catalog, client, domain=domain)
