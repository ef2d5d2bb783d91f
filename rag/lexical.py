"""Lexical index of the chunks: BM25 over SQLite FTS5, in one file beside the Chroma store.

Each chunk is indexed under three columns, its document title (the file name's stem), its heading path
and its text, and found by the question's words (stemmed, common English words left out) with FTS5's
BM25 ranking. A question's commonest words are left out when the chunks that hold them would add up to
more than a budget of matches (`max_matches`): FTS5 scores every chunk that holds any word of the query,
so on a large collection a few words found in most chunks cost most of the time, while BM25 gives them
almost no weight (their inverse document frequency is near 0). Words are dropped commonest first, and
the rarest is always kept; their counts come from an `fts5vocab` table, looked up by the word's Porter
stem (a word whose stem is not found there counts as rare).

`rag.store.Store` writes to it on every upsert and delete, so the same sync that writes vectors keeps it
current; nothing here is rebuilt per query. SQLite makes every write a transaction, so an interrupted
sync leaves the index consistent (the next sync redoes the file, as it does for vectors). This module
does not embed, fuse rankings or read Chroma; it only stores ids, paths and text.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import snowballstemmer

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS chunk_rows (
        rowid INTEGER PRIMARY KEY,
        chunk_id TEXT NOT NULL UNIQUE,
        path TEXT NOT NULL,
        version TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS chunk_rows_path ON chunk_rows (path, version)",
    """CREATE VIRTUAL TABLE IF NOT EXISTS chunk_text USING fts5(
        title, heading, body, tokenize = 'porter unicode61 remove_diacritics 2'
    )""",
)
# How many chunks hold each stemmed term (a view of the index, nothing stored).
_VOCABULARY = "CREATE VIRTUAL TABLE IF NOT EXISTS chunk_vocab USING fts5vocab(chunk_text, 'row')"

# Words that carry no topic; leaving them out keeps queries fast on large collections.
STOPWORDS = frozenset(
    """a about above after again all also am an and any are as at be been before being below between both
    but by can could did do does doing down during each few for from further had has have having he her
    here hers him his how i if in into is it its itself just me more most my no nor not now of off on once
    only or other our ours out over own same she should so some such than that the their theirs them then
    there these they this those through to too under until up very was we were what when where which
    while who whom why will with would you your yours""".split()
)

_WORD = re.compile(r"\w+")


def query_words(question: str) -> list[str]:
    """A question's distinct content words, in order."""
    return list(dict.fromkeys(w for w in _WORD.findall(question.lower()) if w not in STOPWORDS))


def match_expression(words: Sequence[str]) -> str:
    """The FTS5 query for some words, any of which may match."""
    return " OR ".join(f'"{word}"' for word in words)


def within_budget(words: Sequence[str], chunk_counts: dict[str, int], max_matches: int) -> list[str]:
    """The words, rarest first, while the chunks holding them add up to at most `max_matches` (0: all
    words); the rarest word is always kept, and words without a count count as rare."""
    if max_matches <= 0:
        return list(words)
    kept: list[str] = []
    total = 0
    for word in sorted(words, key=lambda w: chunk_counts.get(w, 0)):
        total += chunk_counts.get(word, 0)
        if kept and total > max_matches:
            break
        kept.append(word)
    return kept


class LexicalIndex:
    """BM25 search over chunk titles, headings and texts, kept in `lexical.sqlite`."""

    def __init__(self, db_path: Path, column_weights: tuple[float, float, float] = (1.0, 1.0, 1.0)) -> None:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        # Chains and the page call retrieval from worker threads; one lock serialises use of the connection.
        self._db = sqlite3.connect(db_path, check_same_thread=False)
        self._lock = threading.Lock()
        self._db.execute("PRAGMA journal_mode=WAL")
        with self._db:
            for statement in _SCHEMA:
                self._db.execute(statement)
        self._has_vocabulary = self._create_vocabulary()
        self.column_weights = column_weights
        self._data_version = self._read_data_version()

    def _create_vocabulary(self) -> bool:
        """The term counts' view; False for an older index in a folder this user may only read."""
        try:
            with self._db:
                self._db.execute(_VOCABULARY)
        except sqlite3.OperationalError:
            return False
        return True

    def _read_data_version(self) -> int:
        return self._db.execute("PRAGMA data_version").fetchone()[0]

    def changed_elsewhere(self) -> bool:
        """Whether another connection (another process's ingest) committed since the last call."""
        with self._lock:
            version = self._read_data_version()
            changed, self._data_version = version != self._data_version, version
        return changed

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM chunk_rows").fetchone()[0]

    def paths(self) -> list[str]:
        """Every file path with indexed chunks."""
        with self._lock:
            rows = self._db.execute("SELECT DISTINCT path FROM chunk_rows ORDER BY path").fetchall()
        return [row[0] for row in rows]

    def upsert(self, ids: Sequence[str], texts: Sequence[str], metadatas: Sequence[dict]) -> None:
        """Index chunks (path, version and heading come from their metadata); known ids are replaced."""
        with self._lock, self._db:
            for chunk_id, text, meta in zip(ids, texts, metadatas, strict=True):
                self._upsert_one(chunk_id, text, meta)

    def _upsert_one(self, chunk_id: str, text: str, meta: dict) -> None:
        path = str(meta.get("path", ""))
        rowid = self._db.execute(
            "INSERT INTO chunk_rows (chunk_id, path, version) VALUES (?, ?, ?) "
            "ON CONFLICT (chunk_id) DO UPDATE SET path = excluded.path, version = excluded.version "
            "RETURNING rowid",
            (chunk_id, path, str(meta.get("version", ""))),
        ).fetchone()[0]
        self._db.execute("DELETE FROM chunk_text WHERE rowid = ?", (rowid,))
        self._db.execute(
            "INSERT INTO chunk_text (rowid, title, heading, body) VALUES (?, ?, ?, ?)",
            (rowid, Path(path).stem, str(meta.get("heading", "")), text),
        )

    def delete_file(self, path: str, keep_version: str | None = None, version: str | None = None) -> None:
        """Forget a file's chunks; with `keep_version`, only those from its other versions; with
        `version`, only that version's."""
        query = "SELECT rowid FROM chunk_rows WHERE path = ?"
        params: tuple = (path,)
        if keep_version is not None:
            query, params = query + " AND version != ?", (path, keep_version)
        elif version is not None:
            query, params = query + " AND version = ?", (path, version)
        with self._lock, self._db:
            rowids = [(row[0],) for row in self._db.execute(query, params)]
            self._db.executemany("DELETE FROM chunk_text WHERE rowid = ?", rowids)
            self._db.executemany("DELETE FROM chunk_rows WHERE rowid = ?", rowids)

    def clear(self) -> None:
        with self._lock, self._db:
            self._db.execute("DELETE FROM chunk_text")
            self._db.execute("DELETE FROM chunk_rows")

    def chunk_counts(self, words: Sequence[str]) -> dict[str, int]:
        """How many chunks hold each word (by its stem), for the words the vocabulary knows."""
        if not self._has_vocabulary:
            return {}
        counts: dict[str, int] = {}
        with self._lock:
            for word in words:
                query = "SELECT doc FROM chunk_vocab WHERE term = ?"
                if row := self._db.execute(query, (_stem(word),)).fetchone():
                    counts[word] = row[0]
        return counts

    def search(
        self, question: str, n: int, paths: Sequence[str] | None = None, max_matches: int = 0
    ) -> list[tuple[str, float]]:
        """Up to n (chunk id, BM25 score) pairs, best first; `paths` restricts the files searched;
        `max_matches` > 0 leaves out the commonest words beyond that many matches (module docstring)."""
        words = query_words(question)
        if max_matches > 0 and len(words) > 1:
            words = within_budget(words, self.chunk_counts(words), max_matches)
        expression = match_expression(words)
        if not expression or (paths is not None and not paths):
            return []
        sql = (
            "SELECT r.chunk_id, -bm25(chunk_text, ?, ?, ?) AS score FROM chunk_text "
            "JOIN chunk_rows AS r ON r.rowid = chunk_text.rowid WHERE chunk_text MATCH ?"
        )
        params: list = [*self.column_weights, expression]
        if paths is not None:
            sql += " AND r.path IN (SELECT value FROM json_each(?))"
            params.append(json.dumps(list(paths)))
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY score DESC LIMIT ?", (*params, n)).fetchall()
        return [(chunk_id, float(score)) for chunk_id, score in rows]


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    """The word as FTS5's porter tokenizer indexes it (diacritics removed, Porter stem)."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))
    return snowballstemmer.stemmer("porter").stemWord(plain)
