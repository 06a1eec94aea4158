"""Spec parsing: every form, and one-line errors that name the fix."""

from __future__ import annotations

import pytest

from recagora.agents.llm.specs import embedded_gguf_path, parse_spec
from recagora.item_space.errors import ModelError


def test_openai_spec_keeps_the_model_name():
    spec = parse_spec("openai:gpt-4o-mini")
    assert (spec.kind, spec.model, spec.is_local) == ("openai", "gpt-4o-mini", False)


def test_vllm_spec_keeps_slashes_in_the_hf_name():
    spec = parse_spec("vllm:Qwen/Qwen2.5-0.5B-Instruct")
    assert (spec.kind, spec.model, spec.is_local) == ("vllm", "Qwen/Qwen2.5-0.5B-Instruct", True)


def test_fake_spec_needs_no_model():
    assert parse_spec("fake:").model == "fake"


def test_embedded_smollm2_is_found_inside_the_installed_wheel():
    spec = parse_spec("llamacpp:smollm2")
    assert spec.gguf_path == embedded_gguf_path("smollm2")
    assert spec.gguf_path.suffix == ".gguf" and spec.gguf_path.stat().st_size > 50_000_000
    assert "site-packages" in str(spec.gguf_path)


def test_llamacpp_accepts_any_existing_gguf_path(tmp_path):
    model = tmp_path / "tiny-model.gguf"
    model.write_bytes(b"GGUF")
    spec = parse_spec(f"llamacpp:{model}")
    assert (spec.model, spec.gguf_path) == ("tiny-model", model.resolve())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("opena:gpt-4o", "did you mean 'openai'"),
        ("lamacpp:smollm2", "did you mean 'llamacpp'"),
        ("smollm2", "did you mean 'llamacpp:smollm2'"),
        ("llamacpp:smollm", "did you mean 'smollm2'"),
        ("llamacpp:/no/such/model.gguf", "does not exist"),
        ("openai:", "names no model"),
        ("vllm:", "names no model"),
    ],
)
def test_bad_specs_raise_one_line_model_errors(text, expected):
    with pytest.raises(ModelError) as error:
        parse_spec(text)
    assert expected in str(error.value)
    assert "\n" not in str(error.value)
