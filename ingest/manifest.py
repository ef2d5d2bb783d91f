"""The sync manifest: which file was ingested with which content, in SQLite beside the Chroma store.

A file is recorded only after its chunks are stored, so a crash never marks a file done whose chunks are
missing. This module does not touch the vector store.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL,
    recipe TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    chunks INTEGER NOT NULL,
    ingested_at REAL NOT NULL
)
"""


@dataclass(frozen=True)
class FileRecord:
    """What the manifest knows about one ingested file."""

    path: str
    sha256: str
    recipe: str
    size: int
    mtime_ns: int
    chunks: int
    ingested_at: float


class Manifest:
    """Ingested files keyed by absolute path."""

    def __init__(self, db_path: Path) -> None:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(db_path)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def get(self, path: str) -> FileRecord | None:
        row = self._db.execute("SELECT * FROM files WHERE path = ?", (path,)).fetchone()
        return FileRecord(*row) if row else None

    def all(self) -> list[FileRecord]:
        return [FileRecord(*row) for row in self._db.execute("SELECT * FROM files ORDER BY path")]

    def record(self, path: str, sha256: str, recipe: str, size: int, mtime_ns: int, chunks: int) -> None:
        with self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?)",
                (path, sha256, recipe, size, mtime_ns, chunks, time.time()),
            )

    def touch(self, path: str, size: int, mtime_ns: int) -> None:
        """Remember a new size/mtime for a file whose content did not change."""
        with self._db:
            self._db.execute("UPDATE files SET size = ?, mtime_ns = ? WHERE path = ?", (size, mtime_ns, path))

    def remove(self, path: str) -> None:
        with self._db:
            self._db.execute("DELETE FROM files WHERE path = ?", (path,))

    def last_sync(self) -> float | None:
        return self._db.execute("SELECT MAX(ingested_at) FROM files").fetchone()[0]
