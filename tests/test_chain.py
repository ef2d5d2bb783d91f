"""The chain with the shipped fake model over a real store."""

from functools import partial

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from rag.chain import DoneEvent, SourcesEvent, TokenEvent, ask, build_chain, stream_answer
from rag.llms.fake import FakeChatModel
from rag.prompts import NOT_FOUND
from rag.retrieve import retrieve


@pytest.fixture
def chain(sample_store):
    return build_chain(partial(retrieve, sample_store, k=4), FakeChatModel(), n_ctx=4096, max_tokens=256)


def test_answer_cites_the_source_it_rests_on(chain):
    answer = ask(chain, "Is the drip tray dishwasher-safe?")
    assert "top rack" in answer.text
    assert answer.cited and answer.sources[answer.cited[0] - 1].file == "faq.html"
    assert set(answer.timings) == {"retrieve_ms", "first_token_ms", "total_ms"}
    payload = answer.to_json()
    assert payload["sources"][answer.cited[0] - 1]["cited"] is True
    assert {"n", "file", "path", "page", "chunk_id", "text"} <= set(payload["sources"][0])


def test_stream_gives_sources_before_tokens_then_the_answer(chain):
    events = list(stream_answer(chain, "How long is the warranty?"))
    assert isinstance(events[0], SourcesEvent) and len(events[0].passages) == 4
    assert all(isinstance(e, TokenEvent) for e in events[1:-1]) and len(events) > 3
    assert isinstance(events[-1], DoneEvent)
    assert events[-1].answer.text == "".join(e.text for e in events[1:-1]).strip()


def test_no_sources_means_no_model_call():
    llm = FakeListChatModel(responses=["should not be used"])
    chain = build_chain(lambda q: [], llm, n_ctx=4096, max_tokens=256)
    answer = ask(chain, "anything?")
    assert answer.text == NOT_FOUND and answer.sources == [] and answer.cited == []


def test_prompt_sent_to_the_model_holds_numbered_sources(sample_store):
    seen = []

    class Recording(FakeChatModel):
        def _generate(self, messages, stop=None, run_manager=None, **kwargs):
            seen.append(messages)
            return super()._generate(messages, stop, run_manager, **kwargs)

    chain = build_chain(partial(retrieve, sample_store, k=3), Recording(), 4096, 256)
    chain.invoke({"question": "What are the support hours?"})
    human = seen[0][-1].content
    assert human.count("<source id=") == 3 and '<source id="3"' in human
    assert "Question: What are the support hours?" in human


def test_context_budget_drops_sources_and_warns(sample_store):
    chain = build_chain(partial(retrieve, sample_store, k=8), FakeChatModel(), n_ctx=1024, max_tokens=256)
    answer = ask(chain, "How do I descale the machine?")
    assert 0 < len(answer.sources) < 8 and answer.warnings and "n_ctx" in answer.warnings[0]


def test_uncited_answer_sentences_are_attributed_to_their_source(sample_store):
    llm = FakeListChatModel(
        responses=["The drip tray is dishwasher-safe on the top rack. Bananas are yellow."]
    )
    chain = build_chain(partial(retrieve, sample_store, k=4), llm, n_ctx=4096, max_tokens=256)
    answer = ask(chain, "Is the drip tray dishwasher-safe?")
    (number,) = answer.cited
    assert answer.sources[number - 1].file == "faq.html"
    assert answer.text == f"The drip tray is dishwasher-safe on the top rack. [{number}] Bananas are yellow."
