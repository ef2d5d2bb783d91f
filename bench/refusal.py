"""Refusal threshold: `python bench/refusal.py STORE DATASET [--limit N]` prints one JSON line.

For a sample of DATASET's questions (the same seeded sample `askdocs eval --answers` uses), retrieves
passages once from the whole collection (answer present) and once with the question's gold files left out
(answer absent), and measures the evidence strength `rag.evidence` gives each: the best relevance of a
retrieved sentence to the question, its words weighted by their rarity (for the absent case, rarity among
the remaining files' chunks, as in a collection without the gold files). Reports, for a range of
`answers.min_evidence` thresholds, the share of answerable and of absent questions that would be refused.
The collection must exist already (`askdocs --store STORE eval DATASET`). No chat model is involved. Not
part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import sys
from functools import partial
from pathlib import Path

# This folder holds a file named like the `ingest` package; keep it off the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
from rag.offline import apply_offline_environment  # noqa: E402

apply_offline_environment()

from rag.answer_eval import sample_questions  # noqa: E402
from rag.evaluate import eval_collection, load_questions, relative_name  # noqa: E402
from rag.evidence import select_evidence  # noqa: E402
from rag.retrieve import search  # noqa: E402
from rag.settings import Settings  # noqa: E402

THRESHOLDS = [0.30, 0.35, 0.40, 0.42, 0.45, 0.50, 0.55, 0.60]


def strength(store, question: str, settings: Settings, paths: list[str] | None) -> float:
    found = search(store, question, settings.retrieval.k, paths, options=settings.retrieval)
    rarity = partial(store.lexical.rarity, paths=paths)  # as rare as in a collection of `paths` only
    return select_evidence(question, found.passages, store.embeddings.embed_documents, 0, rarity).strength


def main(store_path: Path, dataset: Path, limit: int) -> dict:
    settings = Settings().with_store(store_path)
    with eval_collection(settings, dataset) as (store, _ingested):
        return thresholds(store, dataset, settings, limit)


def thresholds(store, dataset: Path, settings: Settings, limit: int) -> dict:
    """Share of answerable and of absent questions each `answers.min_evidence` would refuse."""
    docs = dataset / "docs"
    every = store.lexical.paths()
    present, absent = [], []
    for q in sample_questions(load_questions(dataset), limit):
        others = [p for p in every if relative_name(Path(p), docs) not in q.gold_files]
        present.append(strength(store, q.text, settings, None))
        absent.append(strength(store, q.text, settings, others))
    rates = {
        f"{t:.2f}": {
            "refused_answerable": round(sum(s < t for s in present) / len(present), 3),
            "refused_absent": round(sum(s < t for s in absent) / len(absent), 3),
        }
        for t in THRESHOLDS
    }
    return {"dataset": dataset.name, "questions": len(present), "thresholds": rates}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", type=Path)
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--limit", type=int, default=200)
    args = parser.parse_args()
    print(json.dumps(main(args.store, args.dataset, args.limit)))
