"""Conversations over the real embedding model and store, with the shipped fake chat model."""

import signal
import subprocess
import sys
from functools import partial

import pytest

from rag.chain import Budget, DoneEvent, SourcesEvent, TokenEvent, build_chain
from rag.conversation import Conversation, condense_counts
from rag.llms.fake import FakeChatModel
from rag.memory import ConversationStore, Turn
from rag.retrieve import retrieve
from rag.support import check_answer


@pytest.fixture
def chain(sample_store):
    return build_chain(partial(retrieve, sample_store, k=3), FakeChatModel(), Budget(4096, 256))


def test_a_pronoun_follow_up_searches_for_the_previous_subject(chain, tmp_path):
    memory = ConversationStore(tmp_path / "c.sqlite")
    conversation = Conversation(chain, memory, memory.create())
    first = conversation.ask("How do I descale the machine?")
    assert first.sources[0].file == "maintenance.docx" and first.query.reason == "no history"

    second = conversation.ask("How often should I do that?")
    assert second.query.condensed and second.query.reason == "refers back ('that')"
    assert "descale" in second.standalone.lower()
    assert second.sources[0].file == "maintenance.docx" and second.sources[0].heading.endswith(
        "How often to descale"
    )
    assert "every 8 weeks" in second.text and second.cited
    stored = memory.load(conversation.session.id)
    assert [t.standalone for t in stored.turns] == [first.question, second.standalone]


def test_the_checked_sentences_are_stored_with_the_turn(sample_store, real_embeddings, tmp_path):
    checker = partial(check_answer, embed=real_embeddings.embed_documents)
    retriever = partial(retrieve, sample_store, k=3)
    chain = build_chain(retriever, FakeChatModel(), Budget(4096, 256), checker=checker)
    memory = ConversationStore(tmp_path / "c.sqlite")
    conversation = Conversation(chain, memory, memory.create())
    answer = conversation.ask("Is the drip tray dishwasher-safe?")
    stored = memory.load(conversation.session.id).turns[0]
    assert stored.sentences == answer.sentences and stored.sentences[0]["supported"]
    evidence = stored.sentences[0]["evidence"][0]
    source = next(s for s in stored.sources if s["n"] == evidence["n"])
    assert "dishwasher" in source["text"][evidence["start"] : evidence["end"]]


def test_the_turn_is_saved_before_the_done_event_and_streams_in_order(chain, tmp_path):
    memory = ConversationStore(tmp_path / "c.sqlite")
    conversation = Conversation(chain, memory, memory.create())
    events = conversation.stream("Is the drip tray dishwasher-safe?")
    kinds = []
    for event in events:
        kinds.append(type(event))
        if isinstance(event, DoneEvent):
            assert memory.load(conversation.session.id).turns[-1].answer == event.answer.text
    assert kinds[0] is SourcesEvent and kinds[-1] is DoneEvent and set(kinds[1:-1]) == {TokenEvent}


def test_an_interrupted_answer_is_not_saved(chain, tmp_path):
    memory = ConversationStore(tmp_path / "c.sqlite")
    conversation = Conversation(chain, memory, memory.create())
    stream = conversation.stream("Is the drip tray dishwasher-safe?")
    next(stream), next(stream)  # sources, first token
    stream.close()
    assert memory.load(conversation.session.id).turns == []


def test_condense_counts_tell_how_often_the_extra_call_was_skipped(chain, tmp_path):
    memory = ConversationStore(tmp_path / "c.sqlite")
    conversation = Conversation(chain, memory, memory.create())
    for question in [
        "How do I descale the machine?",
        "How often should I do that?",
        "Is the drip tray dishwasher-safe?",
    ]:
        conversation.ask(question)
    counts = condense_counts(memory.load(conversation.session.id).turns)
    assert counts == {"follow_ups": 2, "condensed": 1, "condense_skipped": 1}


KILLED_MID_ANSWER = """
import sys, time
from pathlib import Path
from rag.chain import Budget, TokenEvent, build_chain
from rag.conversation import Conversation
from rag.llms.fake import FakeChatModel
from rag.memory import ConversationStore, Turn
from rag.passages import Passage

class Slow(FakeChatModel):
    def _stream(self, messages, stop=None, run_manager=None, **kwargs):
        for chunk in super()._stream(messages, stop, run_manager, **kwargs):
            time.sleep(0.5)
            yield chunk

text = "The drip tray is dishwasher-safe on the top rack."
source = Passage(1, "faq.html", "/d/faq.html", None, "", "c1", 0.9, text)
chain = build_chain(lambda q: [source], Slow(), Budget(4096, 256))
memory = ConversationStore(Path(sys.argv[1]))
conversation = Conversation(chain, memory, memory.load(sys.argv[2]))
for event in conversation.stream("Is the drip tray dishwasher-safe?"):
    if isinstance(event, TokenEvent):
        print("token", flush=True)
"""


def test_a_kill_mid_answer_leaves_the_conversation_intact(tmp_path):
    path = tmp_path / "c.sqlite"
    memory = ConversationStore(path)
    session = memory.create()
    memory.add_turn(session, stored_turn())
    memory.close()
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_MID_ANSWER, str(path), session.id], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout.readline().strip() == "token"  # the answer is being written
    child.send_signal(signal.SIGKILL)
    child.wait()

    reopened = ConversationStore(path)
    assert reopened._db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    kept = reopened.load(session.id)
    assert [t.question for t in kept.turns] == ["How do I descale the machine?"]
    reopened.add_turn(kept, stored_turn())
    assert reopened.load(session.id).turn_count == 2


def stored_turn() -> Turn:
    return Turn("How do I descale the machine?", "How do I descale the machine?", "With citric acid [1].")
