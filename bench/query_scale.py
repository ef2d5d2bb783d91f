"""Retrieval at scale: `python bench/query_scale.py [SIZES...] [--store DIR]` prints one JSON line per size.

Fills one store step by step to each size (default 10,000, 100,000 and 1,000,000 chunks) with a
generated corpus: passages of 60-140 words drawn from a Zipf-like vocabulary (so BM25 sees realistic
word frequencies) and random unit vectors (embedding a million passages with the real model would take
most of a day on this machine; search cost does not depend on what the vectors mean). At each size it
runs the real `retrieve` (the real model embeds each question, then Chroma's HNSW, Tantivy's BM25,
fusion) for 40 questions and reports p50/p95/max latency, the stages, the process's resident memory and
the store's size on disk; then the same questions dense only (`retrieval.lexical: false`) under
"dense_only". The store is a temporary folder, or `--store DIR`, kept and filled further on the next run
(the generated chunks are the same every time; filling Chroma to a million takes about an hour here).
Not part of the test suite (timings on a shared machine are noisy).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
from rag.offline import apply_offline_environment  # noqa: E402

apply_offline_environment()

from rag.components import open_collection  # noqa: E402
from rag.embeddings import build_embeddings  # noqa: E402
from rag.retrieve import search  # noqa: E402
from rag.settings import RetrievalSettings, Settings  # noqa: E402

BATCH = 5000
QUESTIONS = 40
DIM = 384


def vocabulary(size: int = 30_000) -> tuple[list[str], np.ndarray]:
    rng = random.Random(7)
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = sorted({"".join(rng.choices(letters, k=rng.randint(3, 10))) for _ in range(size)})
    weights = 1.0 / np.arange(1, len(words) + 1)  # Zipf: the n-th word is 1/n as frequent as the first
    return words, weights / weights.sum()


def passages(start: int, count: int, words: list[str], weights: np.ndarray) -> list[str]:
    rng = np.random.default_rng(start)
    lengths = rng.integers(60, 141, size=count)
    picks = rng.choice(len(words), size=int(lengths.sum()), p=weights)
    out, cursor = [], 0
    for length in lengths:
        out.append(" ".join(words[i] for i in picks[cursor : cursor + length]))
        cursor += length
    return out


def unit_vectors(start: int, count: int) -> np.ndarray:
    vectors = np.random.default_rng(10_000_000 + start).standard_normal((count, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def fill(store, start: int, end: int, words: list[str], weights: np.ndarray) -> None:
    for first in range(start, end, BATCH):
        count = min(BATCH, end - first)
        ids = [f"c{n}" for n in range(first, first + count)]
        metas = [
            {"path": f"/corpus/file{n // 50:06d}.txt", "version": "v", "chunk_index": n % 50}
            for n in range(first, first + count)
        ]
        store.upsert(ids, passages(first, count, words, weights), unit_vectors(first, count), metas)


def measure(store, questions: list[str], options: RetrievalSettings) -> dict:
    search(store, questions[0], 5, options=options)  # warm-up
    runs = [search(store, q, 5, options=options) for q in questions]
    totals = sorted(sum(r.timings_ms.values()) for r in runs)
    stages = {
        stage: round(statistics.median(r.timings_ms[stage] for r in runs), 1) for stage in runs[0].timings_ms
    }
    return {
        "p50_ms": round(statistics.median(totals), 1),
        "p95_ms": round(totals[int(0.95 * (len(totals) - 1))], 1),
        "max_ms": round(totals[-1], 1),
        "stage_p50_ms": stages,
    }


def hybrid_and_dense(store, questions: list[str], options: RetrievalSettings) -> dict:
    """The default (hybrid) retrieval, and the same with the dense stage only."""
    dense_only = measure(store, questions, options.model_copy(update={"lexical": False}))
    return {**measure(store, questions, options), "dense_only": dense_only}


def folder_mb(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20, 1)


def main(sizes: list[int], folder: Path) -> None:
    words, weights = vocabulary()
    questions = [" ".join(q.split()[:8]) for q in passages(99_999_999, QUESTIONS, words, weights)]
    settings = Settings()
    embeddings = build_embeddings(settings.embeddings)
    store = open_collection(settings.with_store(folder), embeddings)
    filled = store.count()
    for size in sizes:
        start = time.perf_counter()
        fill(store, filled, size, words, weights)
        fill_s, filled = time.perf_counter() - start, max(size, filled)
        measured = hybrid_and_dense(store, questions, settings.retrieval)
        result = {"chunks": store.count(), "fill_s": round(fill_s, 1), **measured}
        result["rss_mb"] = round(psutil.Process().memory_info().rss / 2**20)
        result["store_mb"] = folder_mb(folder)
        print(json.dumps(result), flush=True)
    store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Retrieval latency at growing collection sizes.")
    parser.add_argument("sizes", nargs="*", type=int, default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--store", type=Path, help="a store folder to keep and fill (default: temporary)")
    options = parser.parse_args()
    if options.store:
        main(options.sizes, options.store)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            main(options.sizes, Path(tmp))
