"""The collection panel's logic: what the store holds, adding files with progress, removing, re-syncing.

Ingestion goes through the same `ingest.sync.sync` the CLI uses, one file at a time, so the page can move
a progress bar between files; the reports are merged into one. Writes happen only in the page's own
process (see the README: one Chroma folder must not have two writers). This module does not use
Streamlit; the caller passes a progress callback.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ingest.manifest import Manifest
from ingest.sync import SyncReport, discover, sync
from rag.render import local_time
from rag.settings import ChunkingSettings
from rag.store import Store

Progress = Callable[[int, int, str], None]  # (done, total, file name being ingested)


@dataclass(frozen=True)
class CollectionInfo:
    files: int
    chunks: int
    embedding_model: str
    last_sync: float | None

    @property
    def last_sync_text(self) -> str:
        return local_time(self.last_sync)


def collection_info(store: Store, manifest: Manifest) -> CollectionInfo:
    """What the panel shows on every page run. An embedded store's chunks are counted by its lexical
    index, which holds the same chunks and knows its size at once (Chroma counts its rows: ~0.2 s at a
    million chunks); a server's by the server, which other machines may write to."""
    chunks = store.count() if store.server else store.lexical.count()
    return CollectionInfo(len(manifest.all()), chunks, store.embedding_model, manifest.last_sync())


def files_table(manifest: Manifest) -> list[dict[str, object]]:
    """One row per ingested file, for display: name, folder, chunks, when it was ingested."""
    return [
        {
            "file": Path(r.path).name,
            "folder": str(Path(r.path).parent),
            "chunks": r.chunks,
            "ingested": local_time(r.ingested_at),
            "path": r.path,
        }
        for r in manifest.all()
    ]


def merge(into: SyncReport, part: SyncReport) -> None:
    """Add one file's report to the running total (chunk count: the latest)."""
    for name in ("added", "updated", "unchanged", "removed", "skipped", "failed", "missing"):
        getattr(into, name).extend(getattr(part, name))
    into.embedded_chunks += part.embedded_chunks
    into.reused_chunks += part.reused_chunks
    into.chunks = part.chunks


def ingest_paths(
    paths: list[Path],
    store: Store,
    manifest: Manifest,
    chunking: ChunkingSettings,
    progress: Progress | None = None,
) -> SyncReport:
    """Sync the supported files under `paths` one by one (unsupported ones listed as skipped)."""
    report = SyncReport()
    files = discover(paths, report)
    for done, path in enumerate(files):
        if progress:
            progress(done, len(files), path.name)
        merge(report, sync([path], store, manifest, chunking))
    report.chunks = store.count()
    if progress:
        progress(len(files), len(files), "")
    return report


def resync(
    store: Store, manifest: Manifest, chunking: ChunkingSettings, progress: Progress | None = None
) -> SyncReport:
    """Re-check every ingested file: changed ones re-indexed, vanished ones removed from the store."""
    report = SyncReport()
    present = []
    for record in manifest.all():
        if Path(record.path).exists():
            present.append(Path(record.path))
        else:
            remove_file(store, manifest, record.path)
            report.removed.append(record.path)
    merge(report, ingest_paths(present, store, manifest, chunking, progress))
    report.chunks = store.count()
    return report


def remove_file(store: Store, manifest: Manifest, path: str) -> None:
    """Take a file's chunks out of the store and forget it (the file itself is left alone)."""
    store.delete_file(path)
    manifest.remove(path)


def report_summary(report: SyncReport) -> str:
    """One line: what changed, and the chunk total."""
    parts = [
        f"{len(report.added)} added",
        f"{len(report.updated)} updated",
        f"{len(report.unchanged)} unchanged",
    ]
    if report.removed:
        parts.append(f"{len(report.removed)} removed")
    if report.failed:
        parts.append(f"{len(report.failed)} failed")
    return ", ".join(parts) + f" — {report.chunks} chunks in the collection"


def report_problems(report: SyncReport) -> list[str]:
    """One line per file that failed or was skipped, with the reason."""
    failed = [f"{Path(e['path']).name}: {e['error']}" for e in report.failed]
    skipped = [f"{Path(e['path']).name} skipped: {e['reason']}" for e in report.skipped]
    return failed + skipped
