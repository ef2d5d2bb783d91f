"""Ingestion killed with SIGKILL at random points: the next run completes, and afterwards the vector store,
the lexical index and the manifest agree exactly (no duplicate chunks, no orphans, no file marked done
whose chunks are missing)."""

import hashlib
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from ingest.split import file_version
from rag.components import collection_and_manifest
from rag.lexical import LexicalIndex

ASKDOCS = str(Path(sys.executable).parent / "askdocs")
DATA = Path(__file__).resolve().parent.parent / "data"
NOTES = 24


def write_notes(docs: Path, round_number: int) -> None:
    """Files that all change every round, so every run has real work to be killed in."""
    for n in range(NOTES):
        lines = [
            f"Note {n}, round {round_number}, paragraph {p}: the pump pressure is {p + n} bar."
            for p in range(60)
        ]
        (docs / f"note-{n:02}.txt").write_text("\n".join(lines))


def start_ingest(store: Path, docs: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [ASKDOCS, "--store", str(store), "ingest", str(docs), "--prune"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def files_done(store: Path, docs: Path) -> int:
    """How many files the manifest records with their current content."""
    if not (store / "manifest.sqlite").exists():
        return 0
    with sqlite3.connect(store / "manifest.sqlite") as db:
        recorded = dict(db.execute("SELECT path, sha256 FROM files"))
    current = {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in docs.iterdir()}
    return sum(recorded.get(path) == sha for path, sha in current.items())


def kill_mid_write(child: subprocess.Popen, store: Path, docs: Path, extra_s: float) -> bool:
    """SIGKILL the ingestion once it has finished at least one file (plus a random extra moment)."""
    start = files_done(store, docs)
    while child.poll() is None and files_done(store, docs) == start:
        time.sleep(0.2)
    time.sleep(extra_s)
    if child.poll() is not None:
        return False
    child.send_signal(signal.SIGKILL)
    child.wait()
    return files_done(store, docs) < len(list(docs.iterdir()))


def assert_store_matches_manifest(settings) -> int:
    lexical_ids = set(LexicalIndex(settings.store.path / "lexical").chunk_ids())  # before opening the store
    with collection_and_manifest(settings) as (store, manifest):
        rows = store._collection.get(include=["metadatas"])
        records = {r.path: r for r in manifest.all()}
    by_path = Counter(meta["path"] for meta in rows["metadatas"])
    assert len(rows["ids"]) == len(set(rows["ids"]))  # no duplicate chunk
    assert lexical_ids == set(rows["ids"])  # the lexical index holds exactly the vector store's chunks
    assert set(by_path) <= set(records)  # no orphan: every chunk belongs to a recorded file
    for path, record in records.items():
        assert by_path.get(path, 0) == record.chunks, path  # no file done whose chunks are missing
        version = file_version(record.sha256, record.recipe)
        stale = [m for m in rows["metadatas"] if m["path"] == path and m["version"] != version]
        assert not stale, path  # no chunk left from an older version
    return len(rows["ids"])


def test_ingest_survives_sigkill_at_random_points(tmp_path, settings):
    docs = tmp_path / "docs"
    shutil.copytree(DATA, docs)
    store, chance, mid_write_kills = settings.store.path, random.Random(7), 0
    for round_number in range(3):
        write_notes(docs, round_number)
        mid_write_kills += kill_mid_write(start_ingest(store, docs), store, docs, chance.uniform(0.0, 3.0))
    (docs / "faq.html").unlink()
    assert start_ingest(store, docs).wait(timeout=900) == 0
    assert mid_write_kills >= 2, "the kills did not land while files were being written"
    assert assert_store_matches_manifest(settings) > 0
    assert files_done(store, docs) == NOTES + 7  # every file present is done; the deleted one is pruned
