"""The terminal chat loop, driven by scripted input."""

from functools import partial

import pytest

from rag.chain import Budget, build_chain
from rag.llms.fake import FakeChatModel
from rag.memory import ConversationStore
from rag.retrieve import retrieve
from rag.terminal import run_chat


def scripted(lines):
    feed = iter(lines)

    def read(prompt: str) -> str:
        try:
            return next(feed)
        except StopIteration:
            raise EOFError from None

    return read


@pytest.fixture
def chain(sample_store):
    return build_chain(partial(retrieve, sample_store, k=3), FakeChatModel(), Budget(4096, 256))


@pytest.fixture
def memory(tmp_path):
    return ConversationStore(tmp_path / "c.sqlite")


def test_chat_answers_streams_sources_and_manages_sessions(chain, memory, capsys):
    first = memory.create()
    run_chat(
        chain,
        memory,
        first,
        scripted(
            [
                "How do I descale the machine?",
                "How often should I do that?",
                "/new",
                "/sessions",
                "/help",
                "/quit",
            ]
        ),
    )
    out = capsys.readouterr().out
    assert (
        f"conversation {first.id}" in out
        and "(searching for: How often should I do the descale machine?)" in out
    )
    assert out.count("\nSources:\n") == 2 and "maintenance.docx" in out
    assert "/open ID" in out  # /help
    sessions = memory.sessions()
    assert len(sessions) == 2 and sessions[1].id == first.id and sessions[1].turn_count == 2
    listing = out.split(f"conversation {sessions[0].id}")[-1]  # after /new: the /sessions listing
    assert first.id in listing and "2 turn(s)" in listing


def test_chat_reopens_a_session_and_survives_a_bad_command(chain, memory, capsys):
    old = memory.create()
    run_chat(
        chain,
        memory,
        memory.create(),
        scripted(["/open nosuchid", f"/open {old.id}", "What is the pump pressure?"]),
    )
    captured = capsys.readouterr()
    assert "'nosuchid' is not a stored conversation" in captured.err
    assert memory.load(old.id).turn_count == 1  # the question went to the reopened session
