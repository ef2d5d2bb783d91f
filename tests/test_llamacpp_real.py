"""Generation with the real default model: the packaged Qwen2.5-Coder-0.5B GGUF through llama.cpp."""

import hashlib
from functools import partial

import pytest

from rag.chain import ask, build_chain
from rag.llms import build_llm
from rag.llms.packaged import DEFAULT_GGUF_NAME, DEFAULT_GGUF_SHA256, default_gguf
from rag.retrieve import retrieve
from rag.settings import LLMSettings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    path = default_gguf(folder)
    assert path.name == DEFAULT_GGUF_NAME
    return folder


def test_assembled_model_matches_its_checksum_and_is_reused(models_dir):
    path = models_dir / DEFAULT_GGUF_NAME
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest == DEFAULT_GGUF_SHA256
    mtime = path.stat().st_mtime_ns
    assert default_gguf(models_dir) == path and path.stat().st_mtime_ns == mtime
    assert not list(models_dir.glob("*.partial-*"))


def test_default_model_answers_from_the_sources_with_a_citation(models_dir, sample_store):
    llm = build_llm("llamacpp", LLMSettings(n_ctx=2048, max_tokens=80, temperature=0.0), models_dir)
    chain = build_chain(partial(retrieve, sample_store, k=3), llm, n_ctx=2048, max_tokens=80)
    answer = ask(chain, "Where do I send a warranty claim?")
    assert answer.sources[0].file == "warranty.pdf" and answer.sources[0].page == 3
    assert "claims@larkspur.example" in answer.text.lower(), answer.text
    assert answer.cited and answer.sources[answer.cited[0] - 1].file == "warranty.pdf", answer.text
    assert answer.timings["first_token_ms"] <= answer.timings["total_ms"]
