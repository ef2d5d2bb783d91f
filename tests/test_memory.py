import pytest

from rag.errors import SessionNotFoundError
from rag.memory import ConversationStore, Turn


def turn(question: str, answer: str = "An answer [1].") -> Turn:
    source = {"n": 1, "file": "warranty.pdf", "page": 2, "text": "…", "cited": True}
    return Turn(question, question, answer, [source], [1], {"total_ms": 12.5})


def test_turns_survive_reopening_the_store(tmp_path):
    path = tmp_path / "conversations.sqlite"
    memory = ConversationStore(path)
    session = memory.create()
    memory.add_turn(
        session, turn("How long is the warranty on the Nimbus K2 espresso machine and its parts?")
    )
    memory.add_turn(session, turn("What does it not cover?"))
    memory.close()

    again = ConversationStore(path).load(session.id)
    assert [t.question for t in again.turns][1] == "What does it not cover?"
    assert again.turns[0].sources[0]["file"] == "warranty.pdf" and again.turns[0].timings == {
        "total_ms": 12.5
    }
    assert again.title.startswith("How long is the warranty") and len(again.title) <= 60
    assert again.turn_count == 2 and again.turns[1].created_at >= again.turns[0].created_at > 0


def test_sessions_are_listed_most_recent_first_and_found_by_prefix(tmp_path):
    memory = ConversationStore(tmp_path / "c.sqlite")
    first, second = memory.create("first"), memory.create("second")
    memory.add_turn(first, turn("later question?"))
    assert [s.id for s in memory.sessions()] == [first.id, second.id]
    assert memory.resolve(second.id[:5]) == second.id and memory.latest().id == first.id


@pytest.mark.parametrize("ref", ["nope1234", "ab"])
def test_unknown_ids_say_how_to_list_sessions(tmp_path, ref):
    memory = ConversationStore(tmp_path / "c.sqlite")
    memory.create()
    with pytest.raises(SessionNotFoundError, match="askdocs history"):
        memory.load(ref)


def test_rename_and_delete(tmp_path):
    memory = ConversationStore(tmp_path / "c.sqlite")
    session = memory.create()
    memory.add_turn(session, turn("q?"))
    memory.rename(session.id, "  Warranty   questions ")
    assert memory.load(session.id).title == "Warranty questions"
    memory.delete(session.id)
    assert memory.sessions() == []
    assert memory._db.execute("SELECT COUNT(*) FROM turns").fetchone() == (0,)
