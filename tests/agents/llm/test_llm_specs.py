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


def test_a_fleet_of_urls_after_at_keeps_each_url_once_in_order():
    spec = parse_spec("openai:smollm2@http://127.0.0.1:8001/v1, http://127.0.0.1:8002/v1/")
    assert spec.endpoints == ("http://127.0.0.1:8001/v1", "http://127.0.0.1:8002/v1")
    assert (spec.model, spec.is_fleet, spec.replicas) == ("smollm2", True, 1)
    assert not parse_spec("openai:smollm2@http://127.0.0.1:8001/v1").is_fleet


def test_an_xn_suffix_asks_for_n_managed_replicas():
    llama = parse_spec("llamacpp:smollm2x3")
    assert (llama.model, llama.replicas, llama.is_fleet) == ("smollm2", 3, True)
    assert llama.gguf_path == embedded_gguf_path("smollm2")
    vllm = parse_spec("vllm:Qwen/Qwen2.5-0.5B-Instructx2")
    assert (vllm.model, vllm.replicas) == ("Qwen/Qwen2.5-0.5B-Instruct", 2)
    assert parse_spec("llamacpp:smollm2").replicas == 1


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
        ("openai:m@", "is not a base URL"),
        ("openai:m@ftp://host/v1", "is not a base URL"),
        ("openai:m@http://a:1/v1,http://a:1/v1", "names an endpoint twice"),
        ("llamacpp:smollm2x999", "at most 64"),
        ("llamacpp:nosuchx3", "unknown llamacpp model"),
    ],
)
def test_bad_specs_raise_one_line_model_errors(text, expected):
    with pytest.raises(ModelError) as error:
        parse_spec(text)
    assert expected in str(error.value)
    assert "\n" not in str(error.value)
