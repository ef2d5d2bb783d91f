"""Re-sync benchmark: `python bench/resync.py [FILES]` prints one JSON line.

Makes a folder of FILES (default 1,000) small text files, ingests it once into a fresh store with the
real embedding model, then times re-ingesting it unchanged (size and mtime match: no hashing, no
parsing), after touching every file (same content: hashing only), after changing one file, and after
renaming a folder of FILES/20 files (parsed again, their stored vectors reused) — each through the
library and, for the unchanged case, through the `askdocs ingest` command as a user runs it. Not part
of the test suite (timings on a shared machine are noisy).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# This folder holds a file named like the `ingest` package; keep it off the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
from rag.offline import apply_offline_environment  # noqa: E402

apply_offline_environment()

from ingest.sync import SyncReport, sync  # noqa: E402
from rag.components import collection_and_manifest  # noqa: E402
from rag.settings import Settings  # noqa: E402

ASKDOCS = str(Path(sys.executable).parent / "askdocs")


def make_folder(folder: Path, files: int) -> None:
    for n in range(files):
        sub = folder / f"group{n % 20:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"note{n:04d}.txt").write_text(
            f"Note {n}: the pump of machine {n} was serviced in week {n % 52}."
        )


def timed_sync(settings: Settings, folder: Path, prune: bool = False) -> tuple[float, SyncReport]:
    with collection_and_manifest(settings) as (store, manifest):
        start = time.perf_counter()
        report = sync([folder], store, manifest, settings.chunking, prune=prune)
        return time.perf_counter() - start, report


def cli_seconds(store: Path, folder: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [ASKDOCS, "--store", str(store), "ingest", str(folder), "--json"], check=True, capture_output=True
    )
    return time.perf_counter() - start


def main(files: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        folder, settings = Path(tmp) / "docs", Settings().with_store(Path(tmp) / "store")
        make_folder(folder, files)
        first_s, first = timed_sync(settings, folder)
        unchanged_s, unchanged = timed_sync(settings, folder)
        cli_unchanged_s = cli_seconds(settings.store.path, folder)
        for path in folder.rglob("*.txt"):
            os.utime(path)  # new mtime, same content: every file is hashed, none parsed
        touched_s, touched = timed_sync(settings, folder)
        changed = next(folder.rglob("*.txt"))
        changed.write_text(changed.read_text() + " It was replaced in week 53.")
        one_changed_s, one = timed_sync(settings, folder)
        (folder / "group00").rename(folder / "renamed00")
        moved_s, moved = timed_sync(settings, folder, prune=True)
    assert len(unchanged.unchanged) == len(touched.unchanged) == files and len(one.updated) == 1
    assert len(moved.added) == len(moved.removed) == len(range(0, files, 20))
    return {
        "files": files,
        "first_ingest_s": round(first_s, 2),
        "unchanged_s": round(unchanged_s, 3),
        "cli_unchanged_s": round(cli_unchanged_s, 2),
        "touched_all_s": round(touched_s, 3),
        "one_changed_s": round(one_changed_s, 3),
        "embedded_first": first.embedded_chunks,
        "embedded_one_changed": one.embedded_chunks,
        "folder_renamed_s": round(moved_s, 3),
        "folder_renamed_files": len(moved.added),
        "embedded_renamed": moved.embedded_chunks,
        "reused_renamed": moved.reused_chunks,
    }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)))
