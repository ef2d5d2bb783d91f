"""Sentence vectors: the sentences of every stored chunk, embedded once at ingest and kept beside it.

Two answer stages compare the question (or an answer sentence) with single source sentences: the
evidence for the prompt (`rag.evidence`) and the support check (`rag.support`). Embedding a question's
~25 evidence sentences when it comes costs ~0.4 s on this CPU; stored, they cost a SQLite look-up
(measured: README, `chunking.sentence_vectors`). The sentence rerank (`rag.rerank`) compares words only:
matching its sentences by these vectors as well was measured and gained nothing. The
sync (`ingest.sync`) embeds each evidence sentence (`chunk_sentences`: cut as `rag.support` cuts them,
with `rag.evidence.MIN_WORDS` content words or more) of the chunks it writes and keeps, in
`sentences.sqlite` of the store folder:

- `vectors(hash, vector)`: one row per distinct sentence text (overlapping chunks and copied files share
  sentences), as float16 (cosines move by under 1e-3);
- `owners(hash, path, version)`: the file versions holding it, so that removing or replacing a file
  removes the vectors only it held, as its chunks are.

A store without them (made before they existed, ingested with `chunking.sentence_vectors` off, or a
Chroma server's collection read from another machine) still answers: `StoredFirst` embeds what it does
not find. This module neither splits files nor runs a model.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np

from rag.evidence import is_evidence
from rag.support import Embed, stored_sentences

_SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (hash TEXT PRIMARY KEY, vector BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS owners (hash TEXT NOT NULL, path TEXT NOT NULL, version TEXT NOT NULL,
                                   PRIMARY KEY (path, version, hash));
CREATE INDEX IF NOT EXISTS owners_hash ON owners (hash);
"""
_IN_LIMIT = 500  # hashes per `IN (...)` list


def sentence_key(text: str) -> str:
    """What identifies a sentence's vector: the hash of its text."""
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def chunk_sentences(text: str, path: str) -> list[str]:
    """The sentences of a stored chunk that question-time stages score: its evidence sentences."""
    return [span.text for span in stored_sentences(text, path) if is_evidence(span)]


class SentenceVectors:
    """The sentence vectors of one store folder (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=30)
        self._lock = threading.Lock()
        with self._lock, self._db:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)

    def count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM vectors").fetchone()[0]

    def known(self, keys: Iterable[str]) -> set[str]:
        """Which of these sentence keys have a stored vector."""
        return {key for key, _ in self._rows("SELECT hash, NULL FROM vectors WHERE hash IN ({})", keys)}

    def lookup(self, keys: Iterable[str]) -> dict[str, np.ndarray]:
        """The stored vectors (float32) of these sentence keys; unknown keys are left out."""
        rows = self._rows("SELECT hash, vector FROM vectors WHERE hash IN ({})", keys)
        return {key: np.frombuffer(blob, dtype=np.float16).astype(np.float32) for key, blob in rows}

    def add(
        self, path: str, version: str, keys: Iterable[str], vectors: Mapping[str, Sequence[float]]
    ) -> None:
        """Record that this file version holds these sentences, storing the vectors not yet stored."""
        owned = [(key, path, version) for key in dict.fromkeys(keys)]
        blobs = [(key, np.asarray(vector, dtype=np.float16).tobytes()) for key, vector in vectors.items()]
        with self._lock, self._db:
            self._db.executemany("INSERT OR IGNORE INTO owners VALUES (?, ?, ?)", owned)
            self._db.executemany("INSERT OR IGNORE INTO vectors VALUES (?, ?)", blobs)

    def delete_file(self, path: str, keep_version: str | None = None, version: str | None = None) -> None:
        """Forget a file's sentences (all its versions; with `keep_version`, all but that one; with
        `version`, only that one), and the vectors no other file version holds."""
        where, args = "path = ?", [path]
        if keep_version is not None:
            where, args = "path = ? AND version != ?", [path, keep_version]
        elif version is not None:
            where, args = "path = ? AND version = ?", [path, version]
        with self._lock, self._db:
            gone = [
                row[0] for row in self._db.execute(f"SELECT DISTINCT hash FROM owners WHERE {where}", args)
            ]
            self._db.execute(f"DELETE FROM owners WHERE {where}", args)
            for batch in _batches(gone):
                marks = ",".join("?" * len(batch))
                self._db.execute(
                    f"DELETE FROM vectors WHERE hash IN ({marks}) "
                    f"AND hash NOT IN (SELECT hash FROM owners WHERE hash IN ({marks}))",
                    [*batch, *batch],
                )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _rows(self, query: str, keys: Iterable[str]) -> Iterator[tuple[str, bytes]]:
        for batch in _batches(list(dict.fromkeys(keys))):
            with self._lock:
                rows = self._db.execute(query.format(",".join("?" * len(batch))), batch).fetchall()
            yield from rows


def _batches(items: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), _IN_LIMIT):
        yield items[start : start + _IN_LIMIT]


class StoredFirst:
    """An embedding function for sentences that takes their stored vectors where it finds them and
    embeds the rest with `embed` (texts not stored: answer sentences, pairs, stores without vectors)."""

    def __init__(self, stored: SentenceVectors, embed: Embed) -> None:
        self.stored = stored
        self.embed = embed

    def __call__(self, texts: list[str]) -> list[Sequence[float]]:
        keys = [sentence_key(text) for text in texts]
        found: dict[str, Sequence[float]] = dict(self.stored.lookup(keys))
        missing = {key: text for key, text in zip(keys, texts, strict=True) if key not in found}
        if missing:
            found.update(zip(missing, self.embed(list(missing.values())), strict=True))
        return [found[key] for key in keys]
