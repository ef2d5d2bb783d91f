"""Ingestion benchmark: `python bench/ingest.py DATASET_DIR` prints one JSON line.

Ingests DATASET_DIR/docs into a fresh temporary store, then embeds the same chunk texts again with the
same model in the same process: that embedding-only time is the floor for the model, and `ratio` is how
far above the floor the whole ingestion is. Then it ingests a copy of the folder (what a moved or
renamed folder costs: parsing again, with the stored vectors reused) and reports its time against the
first ingestion. Not part of the test suite (timings on a shared machine).
"""

from __future__ import annotations

import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

# This file is named like the `ingest` package; keep its own folder off the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
from rag.offline import apply_offline_environment  # noqa: E402

apply_offline_environment()

from ingest.sync import SyncReport, sync  # noqa: E402
from rag.components import open_collection, open_manifest  # noqa: E402
from rag.embeddings import build_embeddings  # noqa: E402
from rag.settings import Settings  # noqa: E402


def main(dataset: Path) -> dict:
    settings = Settings()
    embeddings = build_embeddings(settings.embeddings)
    embeddings.embed_documents(["warm-up"])
    with tempfile.TemporaryDirectory() as tmp:
        store = open_collection(settings.with_store(Path(tmp)), embeddings)
        manifest = open_manifest(store)
        start = time.perf_counter()
        report = sync([dataset / "docs"], store, manifest, settings.chunking)
        wall = time.perf_counter() - start
        rows = store._collection.get(include=["documents", "metadatas"])
        copy_s, copied = _ingest_copy(dataset / "docs", Path(tmp) / "moved", store, manifest, settings)
        manifest.close()
        store.close()
    texts = _embed_texts(rows, settings.chunking.context_prefix)
    start = time.perf_counter()
    embeddings.embed_documents(texts)
    embed_only = time.perf_counter() - start
    return {
        "dataset": dataset.name,
        "wall_s": round(wall, 2),
        "embed_only_s": round(embed_only, 2),
        "ratio": round(wall / embed_only, 3),
        "files": len(report.added),
        "failed": len(report.failed),
        "pages": len({(m["path"], m.get("page")) for m in rows["metadatas"]}),
        "chunks": len(texts),
        "chunks_per_s": round(len(texts) / wall, 1),
        "copy_wall_s": round(copy_s, 2),
        "copy_ratio": round(copy_s / wall, 3),
        "copy_embedded_chunks": copied.embedded_chunks,
        "copy_reused_chunks": copied.reused_chunks,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def _ingest_copy(docs: Path, copy: Path, store, manifest, settings: Settings) -> tuple[float, SyncReport]:
    """Ingest a copy of `docs` at another path into the same store: its chunks' texts are stored already."""
    shutil.copytree(docs, copy)
    start = time.perf_counter()
    report = sync([copy], store, manifest, settings.chunking)
    return time.perf_counter() - start, report


def _embed_texts(rows: dict, context_prefix: bool) -> list[str]:
    from ingest.split import embedding_text

    return [
        embedding_text(Path(meta["path"]), meta.get("heading", ""), text, context_prefix)
        for text, meta in zip(rows["documents"], rows["metadatas"], strict=True)
    ]


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]))))
