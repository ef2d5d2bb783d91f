"""Keep a store in sync with folders: add new files, replace changed ones, optionally prune vanished ones.

Unchanged files (same size and mtime, or same SHA-256) cost no parsing or embedding. A chunk whose
embedding text is already stored (a moved or copied file, the untouched sections of an edited one) gets
the stored vector instead of being embedded again, and a text repeated within a batch is embedded once.
A file is streamed
from its loader through the splitter into the store `EMBED_BATCH` chunks at a time, so memory stays
bounded; files over `chunking.max_file_mb` are skipped with the reason. A changed file's new chunks are
written before its old ones are deleted, and the manifest is updated last, so an interrupted run never
loses what was ingested and the next run finishes the job (chunks of files the manifest does not know,
left by a killed run, are dropped first). A write that fails half-way removes what it wrote; a file that
changes while it is read is read once more. A file that fails to load is listed in the report and the
run goes on. Files are keyed by their absolute path with "." and ".." taken out, so a folder named two
ways is stored once. This module does not parse formats (see `ingest.loaders`) or split text (see
`ingest.split`).
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from tqdm import tqdm

from ingest.loaders import LoadError, loader_for
from ingest.manifest import FileRecord, Manifest
from ingest.split import Chunk, file_version, split_sections
from rag.errors import UsageError
from rag.sentence_vectors import chunk_sentences, sentence_key
from rag.settings import ChunkingSettings
from rag.store import Store, bring_lexical_in_step


@dataclass
class SyncReport:
    """What a sync did (or, in a dry run, would do)."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    embedded_chunks: int = 0  # chunks whose vectors were computed by this run
    reused_chunks: int = 0  # chunks written without embedding: the store or the batch had their text's vector
    chunks: int = 0
    dry_run: bool = False

    def to_json(self) -> dict:
        """The `ingest --json` contract: counts, skipped and failed files, chunks in the store."""
        return {
            "added": len(self.added),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
            "removed": len(self.removed),
            "skipped": self.skipped,
            "failed": self.failed,
            "chunks": self.chunks,
            "embedded_chunks": self.embedded_chunks,
            "reused_chunks": self.reused_chunks,
            "missing": self.missing,
            "dry_run": self.dry_run,
        }


@dataclass(frozen=True)
class _Candidate:
    path: Path
    size: int
    mtime_ns: int
    sha256: str | None = None


def discover(paths: Iterable[Path], report: SyncReport) -> list[Path]:
    """Supported files under `paths` (recursively, hidden ones excluded); the rest go to `report.skipped`."""
    found: set[Path] = set()
    for root in paths:
        if not root.exists():
            raise UsageError(f"no such file or folder: {root}")
        for path in _walk(root) if root.is_dir() else [root]:
            if loader_for(path) is None:
                report.skipped.append({"path": str(path), "reason": f"unsupported file type '{path.suffix}'"})
            else:
                found.add(absolute_path(path))
    return sorted(found)


def absolute_path(path: Path) -> Path:
    """The path made absolute with "." and ".." taken out (symlinks kept): `docs` and `x/../docs` name the
    same files, which the manifest and the store must key alike, or a second ingest stores them twice."""
    return Path(os.path.abspath(path))


def _walk(root: Path) -> Iterable[Path]:
    for folder, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        yield from (Path(folder, name) for name in sorted(filenames) if not name.startswith("."))


def file_sha256(path: Path) -> str:
    """Content hash, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def sync(
    paths: list[Path],
    store: Store,
    manifest: Manifest,
    chunking: ChunkingSettings,
    *,
    prune: bool = False,
    dry_run: bool = False,
    progress: bool = False,
) -> SyncReport:
    """Bring the store in line with the files under `paths`; see the module docstring."""
    report = SyncReport(dry_run=dry_run)
    roots = [absolute_path(p) for p in paths]
    records = manifest.all()
    todo = _classify(discover(roots, report), manifest, chunking, report, dry_run)
    vanished = _vanished(roots, records)
    if prune:
        report.removed = vanished
    else:
        report.missing = vanished
    report.removed += [path for path in _misspelled(roots, records) if path not in vanished]
    if not dry_run:
        bring_lexical_in_step(store)
        _drop_orphans(store, records)
        _apply(todo, store, manifest, chunking, report, progress)
        for path in report.removed:
            store.delete_file(path)
            manifest.remove(path)
    report.chunks = store.count()
    return report


def _classify(
    files: list[Path], manifest: Manifest, chunking: ChunkingSettings, report: SyncReport, dry_run: bool
) -> list[_Candidate]:
    todo = []
    for path in files:
        record = manifest.get(str(path))
        try:
            stat = path.stat()
            if stat.st_size > chunking.max_file_bytes:
                report.skipped.append({"path": str(path), "reason": _too_large(stat.st_size, chunking)})
                continue
            candidate = _candidate(path, stat, record, chunking.recipe)
        except OSError as exc:
            report.failed.append({"path": str(path), "error": f"cannot read: {exc.strerror or exc}"})
            continue
        if candidate is None:
            report.unchanged.append(str(path))
        elif record is not None and (record.sha256, record.recipe) == (candidate.sha256, chunking.recipe):
            report.unchanged.append(str(path))
            if not dry_run:
                manifest.touch(str(path), candidate.size, candidate.mtime_ns)
        else:
            (report.updated if record else report.added).append(str(path))
            todo.append(candidate)
    return todo


def _too_large(size: int, chunking: ChunkingSettings) -> str:
    return (
        f"file is {size / 2**20:.0f} MB, over chunking.max_file_mb ({chunking.max_file_mb}); "
        "raise it in settings.yaml to index this file"
    )


def _candidate(path: Path, stat: os.stat_result, record: FileRecord | None, recipe: str) -> _Candidate | None:
    """None when size, mtime and chunking recipe match the manifest record (no need to even hash)."""
    if record and (record.size, record.mtime_ns, record.recipe) == (stat.st_size, stat.st_mtime_ns, recipe):
        return None
    return _Candidate(path, stat.st_size, stat.st_mtime_ns, file_sha256(path))


def _vanished(roots: list[Path], records: list[FileRecord]) -> list[str]:
    """Manifest entries under `roots` whose file no longer exists."""
    return [
        record.path
        for record in records
        if any(_is_under(Path(record.path), root) for root in roots) and not Path(record.path).exists()
    ]


def _misspelled(roots: list[Path], records: list[FileRecord]) -> list[str]:
    """Manifest entries under `roots` keyed by a path with "." or ".." in it (stores made before paths were
    normalised): the same file is stored again under its plain path, so the old entry goes."""
    plain = {record.path: absolute_path(Path(record.path)) for record in records}
    return [
        path
        for path, normal in plain.items()
        if path != str(normal) and any(_is_under(normal, root) for root in roots)
    ]


def _drop_orphans(store: Store, records: list[FileRecord]) -> None:
    """Delete chunks of files the manifest does not know (left by a run killed mid-file)."""
    known = {record.path for record in records}
    for path in set(store.lexical.paths()) - known:
        store.delete_file(path)


def _is_under(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _apply(
    todo: list[_Candidate],
    store: Store,
    manifest: Manifest,
    chunking: ChunkingSettings,
    report: SyncReport,
    progress: bool,
) -> None:
    bar = tqdm(todo, unit="file", file=sys.stderr, disable=not progress or not todo, desc="ingesting")
    for candidate in bar:
        bar.set_postfix_str(candidate.path.name[-40:], refresh=False)
        try:
            written = _ingest_file(candidate, store, manifest, chunking)
        except LoadError as exc:
            _move_out(candidate, report, report.failed, {"error": str(exc)})
        except OSError as exc:
            _move_out(candidate, report, report.failed, {"error": f"cannot read: {exc.strerror or exc}"})
        else:
            report.embedded_chunks += written.embedded
            report.reused_chunks += written.reused
            if written.written == 0:
                _move_out(candidate, report, report.skipped, {"reason": "no text to index (empty document)"})
    bar.close()


def _move_out(candidate: _Candidate, report: SyncReport, bucket: list[dict[str, str]], entry: dict) -> None:
    """Take a file out of added/updated and list it as failed or skipped instead."""
    path = str(candidate.path)
    for planned in (report.added, report.updated):
        if path in planned:
            planned.remove(path)
    bucket.append({"path": path, **entry})


EMBED_BATCH = 256  # chunks embedded and written at a time: memory stays bounded for any file size


class _ChangedWhileRead(LoadError):
    """The file's size or modification time moved while it was being read."""


@dataclass
class _Written:
    """Chunks of one file written to the store, and how many of their vectors were computed or reused."""

    embedded: int = 0
    reused: int = 0

    @property
    def written(self) -> int:
        return self.embedded + self.reused


def _ingest_file(
    candidate: _Candidate, store: Store, manifest: Manifest, chunking: ChunkingSettings
) -> _Written:
    """Ingest one file, reading it again once if it changed meanwhile."""
    try:
        return _ingest_version(candidate, store, manifest, chunking)
    except _ChangedWhileRead:
        stat = candidate.path.stat()
        fresh = _Candidate(candidate.path, stat.st_size, stat.st_mtime_ns, file_sha256(candidate.path))
    try:
        return _ingest_version(fresh, store, manifest, chunking)
    except _ChangedWhileRead:
        raise LoadError("the file kept changing while it was read; ingest again once it is saved") from None


def _ingest_version(
    candidate: _Candidate, store: Store, manifest: Manifest, chunking: ChunkingSettings
) -> _Written:
    """Write this version's chunks, then drop the file's older ones, then record it in the manifest.

    A write that fails half-way removes what it wrote, so the store never holds a partial version."""
    path = str(candidate.path)
    version = file_version(candidate.sha256 or "", chunking.recipe)
    try:
        written = _write_chunks(candidate.path, version, store, chunking)
        _check_unchanged(candidate)
    except Exception:
        store.delete_file(path, version=version)
        raise
    store.delete_file(path, keep_version=version)
    manifest.record(
        path, candidate.sha256 or "", chunking.recipe, candidate.size, candidate.mtime_ns, written.written
    )
    return written


def _write_chunks(path: Path, version: str, store: Store, chunking: ChunkingSettings) -> _Written:
    loader = loader_for(path)
    assert loader is not None, "discover() only returns supported files"
    chunks = split_sections(loader(path), path, version, chunking)
    written = _Written()
    while batch := list(islice(chunks, EMBED_BATCH)):
        vectors, embedded = _vectors(batch, store)
        store.upsert([c.id for c in batch], [c.text for c in batch], vectors, [c.metadata for c in batch])
        if chunking.sentence_vectors:
            _store_sentences(batch, str(path), version, store)
        written.embedded += embedded
        written.reused += len(batch) - embedded
    return written


def _vectors(batch: list[Chunk], store: Store) -> tuple[list, int]:
    """Each chunk's vector, and how many were computed: a text the store holds a vector for is not
    embedded again, and a text repeated in the batch is embedded once."""
    hashes = [c.metadata["embed_hash"] for c in batch]
    known: dict[str, Any] = store.stored_vectors(hashes)
    new = {h: c.embed_text for h, c in zip(hashes, batch, strict=True) if h not in known}
    known.update(zip(new, store.embeddings.embed_documents(list(new.values())) if new else [], strict=True))
    return [known[h] for h in hashes], len(new)


def _store_sentences(batch: list[Chunk], path: str, version: str, store: Store) -> None:
    """Record the batch's evidence sentences for this file version, embedding those the store has no
    vector for (see `rag.sentence_vectors`)."""
    texts = {sentence_key(t): t for chunk in batch for t in chunk_sentences(chunk.text, path)}
    new = {key: texts[key] for key in texts.keys() - store.sentences.known(texts)}
    vectors = store.sentence_embeddings.embed_documents(list(new.values())) if new else []
    store.sentences.add(path, version, texts, dict(zip(new, vectors, strict=True)))


def _check_unchanged(candidate: _Candidate) -> None:
    stat = candidate.path.stat()
    if (stat.st_size, stat.st_mtime_ns) != (candidate.size, candidate.mtime_ns):
        raise _ChangedWhileRead(str(candidate.path))
