"""Structured replies: constrained decoding where the server has it, else parse + one repair.

Modes, strongest first:
- "json_schema": `response_format={"type": "json_schema", ...}` (OpenAI, vLLM's
  guided decoding).
- "json_object_schema": `{"type": "json_object", "schema": ...}`, which
  llama-cpp-python's server turns into a grammar (it rejects "json_schema").
- "prompt": no constraint; the schema is stated in an extra system message.
Whatever the mode, the reply is validated with pydantic; a failing reply gets ONE
repair re-ask quoting the validation error (the "self-refine" re-prompt of
Madaan et al. 2023, cut to a single round).
"""

from __future__ import annotations

import json
import re
from typing import Literal

from pydantic import BaseModel, ValidationError

StructuredMode = Literal["json_schema", "json_object_schema", "prompt"]
MODES: tuple[StructuredMode, ...] = ("json_schema", "json_object_schema", "prompt")
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


def json_schema_of(schema: type[BaseModel]) -> dict:
    """The pydantic model's JSON schema (a dict, $defs inlined by reference)."""
    return schema.model_json_schema()


def response_format_for(schema: type[BaseModel], mode: StructuredMode) -> dict | None:
    """The `response_format` request field for `mode` (None in "prompt" mode)."""
    if mode == "json_schema":
        return {
            "type": "json_schema",
            "json_schema": {"name": schema.__name__, "schema": json_schema_of(schema)},
        }
    if mode == "json_object_schema":
        return {"type": "json_object", "schema": json_schema_of(schema)}
    return None


def schema_instruction(schema: type[BaseModel]) -> dict[str, str]:
    """A system message stating the schema (used in "prompt" mode and in repairs)."""
    return {
        "role": "system",
        "content": "Reply with ONE JSON object and nothing else. It must match this JSON schema: "
        + json.dumps(json_schema_of(schema), separators=(",", ":")),
    }


def parse_reply(text: str, schema: type[BaseModel]) -> tuple[BaseModel | None, str]:
    """Validate `text` as `schema`; return (value, "") or (None, the validation error in one line).

    Accepts a bare JSON object, one inside a ``` fence, or the first {...} span in prose.
    """
    candidate = _json_candidate(text)
    try:
        return schema.model_validate_json(candidate), ""
    except ValidationError as error:
        return None, _one_line(error)


def _json_candidate(text: str) -> str:
    fenced = _FENCE.search(text)
    if fenced:
        return fenced.group(1).strip()
    start, end = text.find("{"), text.rfind("}")
    return text[start : end + 1] if 0 <= start < end else text.strip()


def _one_line(error: ValidationError) -> str:
    parts = []
    for item in error.errors()[:5]:
        where = ".".join(str(p) for p in item["loc"]) or "(root)"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


def repair_messages(
    messages: list[dict[str, str]], bad_reply: str, error: str, schema: type[BaseModel]
) -> list[dict[str, str]]:
    """The conversation for the one repair re-ask: original + bad reply + the error quoted."""
    return [
        *messages,
        {"role": "assistant", "content": bad_reply},
        {
            "role": "user",
            "content": f"That reply is invalid: {error}. Answer again with ONE JSON object matching "
            f"this JSON schema, nothing else: {json.dumps(json_schema_of(schema), separators=(',', ':'))}",
        },
    ]
