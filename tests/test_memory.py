import sqlite3
from dataclasses import replace

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


SENTENCES = [
    {
        "text": "The warranty lasts two years.",
        "supported": True,
        "cited": [1],
        "model_cited": [1],
        "evidence": [{"n": 1, "start": 0, "end": 31, "score": 0.82}],
    },
    {"text": "It covers the moon.", "supported": False, "cited": [], "model_cited": [1], "evidence": []},
]


def test_checked_sentences_are_stored_with_the_turn(tmp_path):
    path = tmp_path / "c.sqlite"
    memory = ConversationStore(path)
    session = memory.create()
    memory.add_turn(session, replace(turn("How long?"), sentences=SENTENCES))
    memory.add_turn(session, turn("And then?"))
    memory.close()

    loaded = ConversationStore(path).load(session.id).turns
    assert loaded[0].sentences == SENTENCES and loaded[1].sentences == []
    assert loaded[0].to_json()["sentences"] == SENTENCES


OLD_SCHEMA = """
CREATE TABLE sessions (id TEXT PRIMARY KEY, title TEXT NOT NULL, created_at REAL NOT NULL,
    updated_at REAL NOT NULL);
CREATE TABLE turns (session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    n INTEGER NOT NULL, question TEXT NOT NULL, standalone TEXT NOT NULL, answer TEXT NOT NULL,
    sources TEXT NOT NULL, cited TEXT NOT NULL, timings TEXT NOT NULL, created_at REAL NOT NULL,
    PRIMARY KEY (session_id, n));
INSERT INTO sessions VALUES ('abcd1234', 'Old chat', 1.0, 2.0);
INSERT INTO turns VALUES ('abcd1234', 1, 'Old question?', 'Old question?', 'Old answer [1].',
    '[{"n": 1, "file": "a.txt", "text": "t", "cited": true}]', '[1]', '{"total_ms": 3.0}', 2.0);
"""


def test_a_store_written_before_sentences_were_kept_opens_and_grows(tmp_path):
    path = tmp_path / "old.sqlite"
    old = sqlite3.connect(path)
    old.executescript(OLD_SCHEMA)
    old.close()

    memory = ConversationStore(path)
    session = memory.load("abcd1234")
    assert session.turns[0].answer == "Old answer [1]." and session.turns[0].sentences == []
    memory.add_turn(session, replace(turn("New question?"), sentences=SENTENCES))
    memory.close()

    again = ConversationStore(path)  # the column is there now: opening again changes nothing
    turns = again.load("abcd1234").turns
    assert [t.sentences for t in turns] == [[], SENTENCES]
    columns = [row[1] for row in again._db.execute("PRAGMA table_info(turns)")]
    assert columns.count("sentences") == 1
