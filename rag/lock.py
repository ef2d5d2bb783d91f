"""One writer per store: an exclusive lock on `<store>/write.lock` held while a process writes.

Ingestion (the CLI's `ingest`, the page's uploads and re-syncs) takes the lock; a second writer waits up
to a given time, then fails with a message naming the holder (pid, what it is doing, since when).
Readers (`ask`, `chat`, `retrieve`) never wait for it; they take it only, without waiting, to rebuild
a lexical index that is out of step when no writer is at work. The lock is the operating system's
(`fcntl.flock`), so it disappears with its process, even one killed by SIGKILL: a crash never leaves a
stale lock. This module does not protect a Chroma server's collections (the server serialises its own
writes) and does not work on Windows.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rag.errors import StoreBusyError
from rag.store import require_folder

LOCK_NAME = "write.lock"
_POLL_S = 0.2


def _holder(handle) -> str:
    handle.seek(0)
    try:
        info = json.loads(handle.read() or "{}")
    except json.JSONDecodeError:
        return "another askdocs process"
    since = time.strftime("%H:%M:%S", time.localtime(info.get("since", 0)))
    return f"process {info.get('pid', '?')} ({info.get('purpose', 'writing')}, since {since})"


def _acquire(handle, wait_s: float) -> bool:
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(_POLL_S)


@contextmanager
def write_lock(
    root: Path, purpose: str, wait_s: float = 0.0, retry: str = "retry with --wait SECONDS"
) -> Iterator[None]:
    """Hold the store's write lock; `StoreBusyError` if another writer keeps it past `wait_s` seconds
    (its message suggests to `retry` as the caller allows)."""
    require_folder(root)
    root.mkdir(parents=True, exist_ok=True)
    with (root / LOCK_NAME).open("a+", encoding="utf-8") as handle:
        if not _acquire(handle, wait_s):
            raise StoreBusyError(
                f"{_holder(handle)} is writing to the store at {root}: wait for it to finish, "
                f"{retry}, or use another --store"
            )
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "purpose": purpose, "since": time.time()}))
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)
