"""Conversations that survive restarts: sessions and their turns in SQLite beside the vector store.

Each turn keeps the question, the standalone question retrieval used, the answer, its numbered sources
(file, page, text, cited or not), its checked sentences (each with the source spans supporting it, see
`rag.support`) and its timings. A store written before sentences were kept gains the column on opening;
its turns have none. A turn is written in one transaction after its answer is complete, so a process
killed mid-answer leaves the session as it was. WAL mode lets a reader (the page) list sessions while a
writer adds a turn. This module does not run the chain (see `rag.conversation`).
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rag.errors import SessionNotFoundError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS turns (
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    n INTEGER NOT NULL,
    question TEXT NOT NULL,
    standalone TEXT NOT NULL,
    answer TEXT NOT NULL,
    sources TEXT NOT NULL,
    cited TEXT NOT NULL,
    timings TEXT NOT NULL,
    created_at REAL NOT NULL,
    sentences TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (session_id, n)
);
"""
_TURN_COLUMNS = "question, standalone, answer, sources, cited, timings, created_at, sentences"
TITLE_CHARS = 60
MIN_PREFIX = 4


@dataclass(frozen=True)
class Turn:
    """One question and its answer, as stored."""

    question: str
    standalone: str
    answer: str
    sources: list[dict[str, Any]] = field(default_factory=list)
    cited: list[int] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    created_at: float = 0.0
    sentences: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "standalone_question": self.standalone,
            "answer": self.answer,
            "sources": self.sources,
            "cited": self.cited,
            "sentences": self.sentences,
            "timings": self.timings,
            "created_at": self.created_at,
        }


@dataclass
class Session:
    """A stored conversation; `turns` is filled when the session is loaded whole."""

    id: str
    title: str
    created_at: float
    updated_at: float
    turn_count: int = 0
    turns: list[Turn] = field(default_factory=list)

    def summary_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "turns": self.turn_count,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }

    def to_json(self) -> dict[str, Any]:
        return {**self.summary_json(), "history": [t.to_json() for t in self.turns]}


def title_from(question: str) -> str:
    return textwrap.shorten(" ".join(question.split()), TITLE_CHARS, placeholder=" …") or "New chat"


class ConversationStore:
    """Sessions and turns in one SQLite file."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)
        self._add_missing_columns()

    def _add_missing_columns(self) -> None:
        """Bring a store written by an older version up to the current turns table (checked under lock)."""
        if "sentences" in self._turn_columns():
            return
        with self._transaction():
            if "sentences" not in self._turn_columns():
                self._db.execute("ALTER TABLE turns ADD COLUMN sentences TEXT NOT NULL DEFAULT '[]'")

    def _turn_columns(self) -> set[str]:
        return {row[1] for row in self._db.execute("PRAGMA table_info(turns)")}

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def create(self, title: str = "") -> Session:
        now = time.time()
        session = Session(secrets.token_hex(4), title or "New chat", now, now)
        with self._transaction():
            self._db.execute(
                "INSERT INTO sessions VALUES (?, ?, ?, ?)", (session.id, session.title, now, now)
            )
        return session

    def sessions(self) -> list[Session]:
        """All sessions, most recently used first, without their turns."""
        rows = self._db.execute(
            "SELECT s.id, s.title, s.created_at, s.updated_at, COUNT(t.n) FROM sessions s "
            "LEFT JOIN turns t ON t.session_id = s.id GROUP BY s.id ORDER BY s.updated_at DESC"
        ).fetchall()
        return [Session(*row) for row in rows]

    def latest(self) -> Session | None:
        found = self.sessions()
        return self.load(found[0].id) if found else None

    def _match(self, ref: str) -> Session:
        """The session `ref` names (its id or an unambiguous prefix of it), without its turns."""
        ref = ref.strip()
        matches = [
            s for s in self.sessions() if s.id == ref or (len(ref) >= MIN_PREFIX and s.id.startswith(ref))
        ]
        if len(matches) == 1:
            return matches[0]
        problem = "matches several conversations" if matches else "is not a stored conversation"
        raise SessionNotFoundError(f"'{ref}' {problem}: run `askdocs history` to list them")

    def resolve(self, ref: str) -> str:
        """The full id of the session `ref` names."""
        return self._match(ref).id

    def load(self, ref: str) -> Session:
        """A session with all its turns, oldest first."""
        session = self._match(ref)
        rows = self._db.execute(
            f"SELECT {_TURN_COLUMNS} FROM turns WHERE session_id = ? ORDER BY n",
            (session.id,),
        ).fetchall()
        session.turns = [_turn_from_row(row) for row in rows]
        return session

    def add_turn(self, session: Session, turn: Turn) -> None:
        """Append a turn (one transaction); the first turn of an untitled session names it."""
        now = time.time()
        turn = replace(turn, created_at=now)
        with self._transaction():
            self._db.execute(
                f"INSERT INTO turns (session_id, n, {_TURN_COLUMNS}) VALUES (?, "
                "(SELECT COALESCE(MAX(n), 0) + 1 FROM turns WHERE session_id = ?), ?, ?, ?, ?, ?, ?, ?, ?)",
                (session.id, session.id, *_turn_row(turn)),
            )
            if session.title == "New chat":
                session.title = title_from(turn.question)
            self._db.execute(
                "UPDATE sessions SET title = ?, updated_at = ? WHERE id = ?", (session.title, now, session.id)
            )
        session.turns.append(turn)
        session.turn_count += 1
        session.updated_at = now

    def rename(self, ref: str, title: str) -> None:
        with self._transaction():
            self._db.execute(
                "UPDATE sessions SET title = ? WHERE id = ?", (title_from(title), self.resolve(ref))
            )

    def delete(self, ref: str) -> None:
        with self._transaction():
            self._db.execute("DELETE FROM sessions WHERE id = ?", (self.resolve(ref),))

    def close(self) -> None:
        self._db.close()


def _turn_row(turn: Turn) -> tuple:
    return (
        turn.question,
        turn.standalone,
        turn.answer,
        json.dumps(turn.sources, ensure_ascii=False),
        json.dumps(turn.cited),
        json.dumps(turn.timings),
        turn.created_at,
        json.dumps(turn.sentences, ensure_ascii=False),
    )


def _turn_from_row(row: tuple) -> Turn:
    question, standalone, answer, sources, cited, timings, created_at, sentences = row
    return Turn(
        question,
        standalone,
        answer,
        json.loads(sources),
        json.loads(cited),
        json.loads(timings),
        created_at,
        json.loads(sentences),
    )
