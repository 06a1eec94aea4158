"""Prompt templates as files (Jinja2), loaded by name: `render("user_score", ...)`.

One file per message: `<name>.jinja`. Undefined slots raise (StrictUndefined), so a
template and its caller cannot drift apart silently. A prompt change that alters
behaviour bumps the role's version in `recagora.agents.registry`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jinja2

PROMPT_DIR = Path(__file__).parent


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(PROMPT_DIR),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def render(name: str, **slots: object) -> str:
    """Fill template `<name>.jinja` with `slots`; surrounding whitespace is stripped."""
    return _environment().get_template(f"{name}.jinja").render(**slots).strip()


def template_names() -> list[str]:
    """Every template shipped here (without the `.jinja` suffix)."""
    return sorted(path.stem for path in PROMPT_DIR.glob("*.jinja"))
