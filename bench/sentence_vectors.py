"""Sentence vectors at ingest: `python bench/sentence_vectors.py DATASET_DIR [--questions N]` prints one
JSON line.

Syncs DATASET_DIR/docs into two new temporary stores in one process, with `chunking.sentence_vectors` off
and then on, and times each ingest; then, in each store, retrieves the first N questions and times
choosing their evidence sentences as `askdocs ask` does (`rag.evidence.select_evidence` with a fresh
`MemoEmbed` over `Store.sentence_embed`, so nothing is remembered from one question to the next). Not
part of the test suite (timings on a shared machine).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

# This folder holds a file named like the `ingest` package; keep it off the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
from rag.offline import apply_offline_environment  # noqa: E402

apply_offline_environment()

from ingest.sync import sync  # noqa: E402
from rag.components import collection_and_manifest  # noqa: E402
from rag.evaluate import load_questions, percentile  # noqa: E402
from rag.evidence import MemoEmbed, select_evidence  # noqa: E402
from rag.retrieve import search  # noqa: E402
from rag.settings import Settings  # noqa: E402


def measure(dataset: Path, questions: int, sentence_vectors: bool) -> dict:
    """Ingest time, chunks and sentence vectors, and evidence-choosing time, for one setting."""
    settings = Settings()
    settings = settings.model_copy(
        update={"chunking": settings.chunking.model_copy(update={"sentence_vectors": sentence_vectors})}
    )
    asked = load_questions(dataset)[:questions]
    with (
        tempfile.TemporaryDirectory() as tmp,
        collection_and_manifest(settings.with_store(Path(tmp))) as (
            store,
            manifest,
        ),
    ):
        store.sentence_embeddings.embed_documents(["warm-up"])
        start = time.perf_counter()
        report = sync([dataset / "docs"], store, manifest, settings.chunking)
        ingest_s = time.perf_counter() - start
        times = [_evidence_ms(store, question.text, settings) for question in asked]
        return {
            "ingest_s": round(ingest_s, 1),
            "chunks": report.chunks,
            "sentence_vectors": store.sentences.count(),
            "evidence_ms_p50": percentile(times, 0.50),
            "evidence_ms_p95": percentile(times, 0.95),
        }


def _evidence_ms(store, question: str, settings: Settings) -> float:
    found = search(store, question, settings.retrieval.k, options=settings.retrieval)
    start = time.perf_counter()
    limit = settings.answers.evidence_sentences
    select_evidence(question, found.passages, MemoEmbed(store.sentence_embed), limit, store.lexical.rarity)
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--questions", type=int, default=60)
    args = parser.parse_args()
    off = measure(args.dataset, args.questions, sentence_vectors=False)
    on = measure(args.dataset, args.questions, sentence_vectors=True)
    ratio = round(on["ingest_s"] / off["ingest_s"], 2) if off["ingest_s"] else None
    print(json.dumps({"dataset": args.dataset.name, "off": off, "on": on, "ingest_ratio": ratio}))


if __name__ == "__main__":
    main()
