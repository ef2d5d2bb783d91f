"""The Ollama backend against a loopback server speaking Ollama's protocol (tests/fake_ollama.py)."""

import socket
from functools import partial

import pytest
from fake_ollama import FakeOllama, start_fake_ollama

from rag.chain import Budget, DoneEvent, TokenEvent, build_chain, stream_answer
from rag.errors import BackendUnavailableError, ModelError
from rag.history import history_messages
from rag.llms import build_llm
from rag.llms.ollama import is_pulled
from rag.retrieve import retrieve
from rag.settings import LLMSettings


@pytest.fixture
def fake():
    state = start_fake_ollama(FakeOllama())
    yield state
    state.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def load(fake: FakeOllama, model: str = "qwen2.5:0.5b", **settings):
    return build_llm(f"ollama:{model}", LLMSettings(ollama_url=fake.url, **settings), None)


def test_unreachable_server_says_to_start_it():
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(
        BackendUnavailableError, match=rf"is `ollama serve` running there.*{url}|{url}.*ollama serve"
    ):
        build_llm("ollama:llama3.2", LLMSettings(ollama_url=url), None)


def test_model_not_pulled_says_how_to_pull_it(fake):
    with pytest.raises(ModelError, match=r"run `ollama pull llama3.2` \(pulled: qwen2.5:0.5b\)"):
        load(fake, "llama3.2")
    # a bare name means :latest in Ollama, so "qwen2.5" is not "qwen2.5:0.5b"
    with pytest.raises(ModelError, match="ollama pull qwen2.5"):
        load(fake, "qwen2.5")


def test_tags_follow_ollamas_latest_rule():
    assert is_pulled("llama3.2", ["llama3.2:latest"]) and is_pulled("qwen2.5:0.5b", ["qwen2.5:0.5b"])
    assert not is_pulled("qwen2.5", ["qwen2.5:0.5b"])


def test_context_is_explicit_and_capped_by_the_models_own_length(fake):
    loaded = load(fake, n_ctx=8192)
    assert loaded.n_ctx == 8192 and loaded.chat.num_ctx == 8192
    fake.models["qwen2.5:0.5b"] = 2048
    small = load(fake, n_ctx=8192)
    assert small.n_ctx == 2048 and small.chat.num_ctx == 2048
    assert ("/api/show", {"model": "qwen2.5:0.5b"}) in fake.requests


def test_a_conversation_streams_over_ndjson_with_history_and_num_ctx(fake, sample_store):
    loaded = load(fake, n_ctx=4096, max_tokens=128)
    chain = build_chain(partial(retrieve, sample_store, k=3), loaded.chat, Budget(loaded.n_ctx, 128))
    history = history_messages([("How do I descale the machine?", "Use citric acid [1].")])
    events = list(stream_answer(chain, "How often should I do that?", history))

    tokens = [e.text for e in events if isinstance(e, TokenEvent)]
    assert len(tokens) > 3 and "".join(tokens) == "Descale it every 8 weeks [1]."
    answer = events[-1].answer
    assert (
        isinstance(events[-1], DoneEvent) and answer.standalone == "How often should I descale the Nimbus K2?"
    )
    assert answer.sources[0].file == "maintenance.docx" and answer.cited == [1]

    condense, reply = fake.chats()
    assert condense["stream"] is True and condense["options"]["num_ctx"] == 4096
    assert (
        condense["options"]["stop"] == ["\n"]
        and "User: How do I descale" in condense["messages"][-1]["content"]
    )
    roles = [m["role"] for m in reply["messages"]]
    assert roles == ["system", "user", "assistant", "user"] and reply["options"]["num_ctx"] == 4096
    assert (
        '<source id="1">' in reply["messages"][-1]["content"]
        and reply["messages"][2]["content"] == "Use citric acid."
    )


def test_model_removed_after_loading_says_to_pull_it(fake, sample_store):
    loaded = load(fake)
    fake.models.clear()
    with pytest.raises(ModelError, match="ollama pull qwen2.5:0.5b"):
        loaded.chat.invoke("hello")


def test_model_failing_on_the_server_is_a_model_error(fake):
    loaded = load(fake)
    fake.fail_chat_with = 500
    with pytest.raises(ModelError, match=r"HTTP 500.*llama runner process has terminated"):
        list(loaded.chat.stream("hello"))


def test_server_gone_while_chatting_says_to_start_it(fake):
    loaded = load(fake)
    fake.stop()
    with pytest.raises(BackendUnavailableError, match=f"cannot reach Ollama at {fake.url}.*ollama serve"):
        loaded.chat.invoke("hello")


def test_an_answer_that_starts_looping_is_ended_at_the_repeat(fake):
    fake.reply = lambda request: "The lid is blue. It ships in two days. " + "The lid is blue. " * 100
    loaded = load(fake)
    answer = "".join(chunk.content for chunk in loaded.chat.stream("How long does shipping take?"))
    assert answer == "The lid is blue. It ships in two days. "
