"""Support threshold: `python bench/support_check.py STORE DATASET [--limit N]` prints one JSON line.

Calibrates the support check (`rag.support`) on a set with short extractive gold answers (covidqa_dev):
for a sample of questions (the seeded sample of `askdocs eval --answers`), the gold answer is checked as
a claim against each retrieved passage. A passage that holds the gold answer should support it
(positive); a passage from a file that is not a gold file should not (negative). Reports, per threshold,
the share of positives supported (recall) and the precision of "supported". The dataset's evaluation
collection under STORE is synced first (as `askdocs eval` does). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

# This folder holds a file named like the `ingest` package; keep it off the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
from rag.offline import apply_offline_environment  # noqa: E402

apply_offline_environment()

from rag.answer_eval import GOLD_PREFIX, normalise_answer, sample_questions  # noqa: E402
from rag.evaluate import eval_collection, load_questions, relative_name  # noqa: E402
from rag.retrieve import search  # noqa: E402
from rag.settings import Settings  # noqa: E402
from rag.support import source_windows, support_scores  # noqa: E402

THRESHOLDS = [0.45, 0.50, 0.55, 0.60, 0.65, 0.70]


def passage_scores(store, question, settings: Settings, docs: Path) -> tuple[list[float], list[float]]:
    """The best window score of each retrieved passage for the gold answer: (positives, negatives)."""
    passages = search(store, question.text, settings.retrieval.k, options=settings.retrieval).passages
    windows = source_windows(passages)
    if not windows:
        return [], []
    gold = question.answers[0]
    scores = support_scores([gold], windows, store.sentence_embeddings.embed_documents)[0]
    positives, negatives = [], []
    for passage in passages:
        best = max(float(s) for s, w in zip(scores, windows, strict=True) if w.rank == passage.rank)
        if normalise_answer(gold)[:GOLD_PREFIX] in normalise_answer(passage.text):
            positives.append(best)
        elif relative_name(Path(passage.path), docs) not in question.gold_files:
            negatives.append(best)
    return positives, negatives


def main(store_path: Path, dataset: Path, limit: int) -> dict:
    settings = Settings().with_store(store_path)
    with eval_collection(settings, dataset) as (store, _ingested):
        return thresholds(store, dataset, settings, limit)


def thresholds(store, dataset: Path, settings: Settings, limit: int) -> dict:
    """Recall and precision of "supported" at each support threshold."""
    positives, negatives = [], []
    for question in sample_questions(load_questions(dataset), limit):
        pos, neg = passage_scores(store, question, settings, dataset / "docs")
        positives += pos
        negatives += neg
    rates = {}
    for t in THRESHOLDS:
        true, false = sum(s >= t for s in positives), sum(s >= t for s in negatives)
        rates[f"{t:.2f}"] = {
            "recall": round(true / len(positives), 3),
            "precision": round(true / max(1, true + false), 3),
        }
    return {
        "dataset": dataset.name,
        "positives": len(positives),
        "negatives": len(negatives),
        "thresholds": rates,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", type=Path)
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--limit", type=int, default=200)
    args = parser.parse_args()
    print(json.dumps(main(args.store, args.dataset, args.limit)))
