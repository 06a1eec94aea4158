"""User-model names -> factories for the fidelity suite (floor 4 may import agents).

    random, popularity   the baselines (item_space.fidelity.baselines)
    learned              the learned user (agents.user_models)
    surrogate, v0        the v0 surrogate user (agents.user_models)
    llm                  an LLM answering from one forward pass (agents.llm_user_model; --llm)
    hybrid               learned decisions + the LLM's P(yes), w picked on the validation
                         split (agents.hybrid_user_model; --llm)

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
LLM_MODELS = ("llm", "hybrid")
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
    needing = [name for name in names if name in LLM_MODELS]
    if needing and not llm:
        raise ConfigError(f"user={needing[0]} needs --llm SPEC (e.g. --llm llamacpp:smollm2)")
    if llm and not needing:
        raise ConfigError(
            "--llm is only used by user=llm and user=hybrid; add one to --agents or drop --llm"
        )


def model_factories(
    names: list[str],
    dataset: Any,
    seed: int,
    llm: str | None,
    stack: ExitStack,
    name: str,
    on_progress: Callable[[str], None] | None = None,
) -> dict[str, Callable]:
    """name -> factory(split) for every requested model (baselines the suite adds itself).

    name: the dataset's registry name (it picks the LLM prompts' domain, e.g. "movies").
    on_progress: told what a learned fit is doing (the command retitles its progress bar)."""
    baselines = baseline_factories(len(dataset.catalog), seed)
    factories: dict[str, Callable] = {}
    clients: dict[str, Any] = {}  # llm and hybrid share ONE client (one llama.cpp server)
    for model in names:
        if model in BASELINES:
            factories[model] = baselines[model]
        elif model == "hybrid":
            factories[model] = _hybrid_factory(
                dataset, llm, stack, domain_of(name), seed, clients, on_progress
            )
        elif model in LLM_MODELS:
            factories[model] = _llm_factory(dataset, llm, stack, domain_of(name), clients)
        else:
            factories[model] = _agent_factory(model, dataset, seed, on_progress)
    return factories


def _agent_factory(name: str, dataset: Any, seed: int, on_progress=None) -> Callable:
    try:
        from recagora.agents.user_models import build_user_model
    except ImportError as error:
        raise ModelError(
            f"user model {name!r} is not available in this checkout (agents.user_models: {error})"
        ) from None

    def build(split):
        # The suite shows its own progress bar (a second live display would clash): the fit
        # reports through on_progress instead.
        return build_user_model(
            name, dataset, split, seed=seed, show_progress=False, on_progress=on_progress
        )

    return build


def _llm_factory(
    dataset: Any, spec: str | None, stack: ExitStack, domain: str, clients: dict
) -> Callable:
    try:
        from recagora.agents.llm_user_model import LLMUserModel
    except ImportError as error:
        raise ModelError(f"user model 'llm' is not available in this checkout ({error})") from None
    client = _llm_client(spec, stack, clients)
    return lambda split: LLMUserModel(dataset.catalog, client, domain=domain)


def _hybrid_factory(
    dataset: Any,
    spec: str | None,
    stack: ExitStack,
    domain: str,
    seed: int,
    clients: dict,
    on_progress=None,
) -> Callable:
    try:
        from recagora.agents.hybrid_user_model import HybridConfig, HybridUserModel, select_weight
        from recagora.agents.llm_user_model import LLMUserModel
    except ImportError as error:
        raise ModelError(
            f"user model 'hybrid' is not available in this checkout ({error})"
        ) from None
    learned = _agent_factory("learned", dataset, seed, on_progress)
    client = _llm_client(spec, stack, clients)

    def build(split):
        model = learned(split)
        llm = LLMUserModel(dataset.catalog, client, domain=domain)
        # w from the split's VALIDATION targets, never from the test users the suite scores.
        choice = select_weight(model, llm, split, len(dataset.catalog), seed=seed)
        hybrid = HybridUserModel(model, llm, HybridConfig(weight=choice.weight))
        hybrid.selection = choice  # kept for whoever wants the validation curve
        return hybrid

    return build


def _llm_client(spec: str | None, stack: ExitStack, clients: dict) -> Any:
    if spec not in clients:
        try:
            from recagora.agents.llm import open_llm
        except ImportError as error:
            raise ModelError(f"the LLM layer is not available in this checkout ({error})") from None
        clients[spec] = stack.enter_context(open_llm(spec))
    return clients[spec]
