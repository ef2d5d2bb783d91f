from pathlib import Path

import pytest

from rag.errors import ModelError, UnknownBackendError
from rag.llms import build_llm, gguf_path, parse_spec
from rag.llms.fake import FakeChatModel, extractive_answer
from rag.llms.llamacpp import check_gguf
from rag.packaged import DEFAULT_GGUF, LARGER_GGUF
from rag.prompts import NOT_FOUND
from rag.settings import LLMSettings


@pytest.mark.parametrize(
    ("spec", "parsed"),
    [
        ("fake", ("fake", "")),
        ("extractive", ("extractive", "")),
        ("llamacpp", ("llamacpp", "")),
        ("llamacpp:/m/x.gguf", ("llamacpp", "/m/x.gguf")),
        ("/m/model.GGUF", ("llamacpp", "/m/model.GGUF")),
        ("ollama:llama3.2:1b", ("ollama", "llama3.2:1b")),
    ],
)
def test_parse_spec(spec, parsed):
    assert parse_spec(spec) == parsed


@pytest.mark.parametrize("spec", ["gpt4", "openai:gpt-4o", "ollama", "ollama:"])
def test_unknown_specs_say_what_is_accepted(spec):
    with pytest.raises(UnknownBackendError, match="ollama"):
        parse_spec(spec)


def test_gguf_checks(tmp_path):
    with pytest.raises(ModelError, match="not found"):
        check_gguf(tmp_path / "missing.gguf")
    fake = tmp_path / "fake.gguf"
    fake.write_bytes(b"PK\x03\x04 this is a zip")
    with pytest.raises(ModelError, match="not a GGUF"):
        build_llm(f"llamacpp:{fake}", LLMSettings(), tmp_path)
    broken = tmp_path / "broken.gguf"  # the right magic, then garbage: llama.cpp refuses to load it
    broken.write_bytes(b"GGUF" + b"\x03\x00\x00\x00" + b"\xff" * 256)
    with pytest.raises(ModelError, match="llama.cpp could not load"):
        build_llm(f"llamacpp:{broken}", LLMSettings(), tmp_path)


def test_fake_model_is_extractive_and_deterministic():
    prompt = (
        '<source id="1">\nThe tank holds 1.8 litres. It is removable.\n</source>\n'
        '<source id="2">\nThe drip tray is dishwasher-safe on the top rack.\n</source>\n\n'
        "Question: Is the drip tray dishwasher-safe?"
    )
    assert extractive_answer(prompt) == "The drip tray is dishwasher-safe on the top rack. [2]"
    assert extractive_answer("Sources:\n\nQuestion: anything") == NOT_FOUND
    assert FakeChatModel().invoke(prompt).content == extractive_answer(prompt)


def test_fake_model_rewrites_a_follow_up_with_the_previous_subject():
    prompt = (
        "Conversation:\nUser: How do I descale the machine?\nAssistant: Use citric acid.\n"
        "Last question: How often should I do that?\nRewritten question:"
    )
    assert FakeChatModel().invoke(prompt).content == "How often should I do the descale machine?"


def test_the_fake_backend_reports_the_configured_context(tmp_path):
    loaded = build_llm("fake", LLMSettings(n_ctx=2048), tmp_path)
    assert isinstance(loaded.chat, FakeChatModel) and loaded.n_ctx == 2048
    assert loaded.count_tokens("abc def") >= 2


def test_the_extractive_backend_loads_no_model(tmp_path):
    loaded = build_llm("extractive", LLMSettings(n_ctx=2048), tmp_path)
    assert loaded.chat is None and loaded.n_ctx == 2048
    assert list(tmp_path.iterdir()) == []  # nothing assembled, nothing loaded


def test_llamacpp_names_a_packaged_model_or_a_path(tmp_path, monkeypatch):
    built = []
    monkeypatch.setattr(
        "rag.packaged.assembled", lambda model, folder: built.append(model) or folder / model.name
    )
    assert gguf_path("", tmp_path) == tmp_path / DEFAULT_GGUF.name
    assert gguf_path("Qwen2.5-Coder-1.5B", tmp_path) == tmp_path / LARGER_GGUF.name
    assert built == [DEFAULT_GGUF, LARGER_GGUF]
    assert (
        gguf_path("~/models/qwen2.5-coder-1.5b.gguf", tmp_path)
        == Path.home() / "models/qwen2.5-coder-1.5b.gguf"
    )
    assert len(built) == 2  # a path is not assembled
