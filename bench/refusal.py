"""Refusal threshold: `python bench/refusal.py STORE DATASET [--limit N] [--settings FILE]`, one JSON line.

For a sample of DATASET's questions (the same seeded sample `askdocs eval --answers` uses), retrieves
passages once from the whole collection (answer present) and once with the question's gold files left out
(answer absent), and measures what the refusal gate compares with `answers.min_evidence`: the grounding
`rag.evidence` gives the retrieved sentences (the best relevance of a sentence to the question, its words
weighted by their rarity, a word only its file holds counting `answers.file_credit` of its weight, plus
`answers.passage_weight` times the best passage cosine's margin over the model's weak-evidence floor; for
the absent case, rarity among the remaining files' chunks, as in a collection without the gold files),
and, for comparison, the sentence alone (`file_credit` and `passage_weight` 0). Reports, for a range of
thresholds, the share of answerable and of absent questions each would refuse, and how well each
separates the two (AUC).
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
from rag.settings import Settings, cosine_scale, load_settings  # noqa: E402

THRESHOLDS = [0.30, 0.35, 0.37, 0.40, 0.45, 0.48, 0.50, 0.52, 0.55, 0.58, 0.60, 0.62, 0.64, 0.66]


def scores(store, question: str, settings: Settings, paths: list[str] | None) -> tuple[float, float]:
    """(the sentence alone, the grounding the gate reads) for the question's retrieved passages."""
    found = search(store, question, settings.retrieval.k, paths, options=settings.retrieval)
    rarity = partial(store.lexical.rarity, paths=paths)  # as rare as in a collection of `paths` only
    embed, in_files = store.sentence_embed, store.lexical.words_in_files  # as the chain compares sentences
    answers, floor = settings.answers, cosine_scale(settings.embeddings.model).gate_floor
    selected = select_evidence(
        question,
        found.passages,
        embed,
        limit=0,  # whole passages: only the scores are wanted
        rarity=rarity,
        in_files=in_files,
        file_credit=answers.file_credit,
        passage_weight=answers.passage_weight,
        score_floor=floor,
    )
    return selected.strength, selected.grounding  # the strength is the sentence alone


def main(store_path: Path, dataset: Path, limit: int, settings_file: Path | None = None) -> dict:
    settings = load_settings(settings_file).with_store(store_path)
    with eval_collection(settings, dataset) as (store, _ingested):
        return thresholds(store, dataset, settings, limit)


def thresholds(store, dataset: Path, settings: Settings, limit: int) -> dict:
    """Share of answerable and of absent questions each threshold would refuse, by either score."""
    docs = dataset / "docs"
    every = store.lexical.paths()
    present, absent = [], []
    for q in sample_questions(load_questions(dataset), limit):
        others = [p for p in every if relative_name(Path(p), docs) not in q.gold_files]
        present.append(scores(store, q.text, settings, None))
        absent.append(scores(store, q.text, settings, others))
    answers = settings.answers
    report = {"dataset": dataset.name, "questions": len(present), "file_credit": answers.file_credit}
    report["passage_weight"] = answers.passage_weight
    for column, name in enumerate(("sentence", "grounding")):
        wanted, missing = [s[column] for s in present], [s[column] for s in absent]
        report[name] = {"auc": round(auc(wanted, missing), 3), "thresholds": rates(wanted, missing)}
    return report


def rates(present: list[float], absent: list[float]) -> dict:
    return {
        f"{t:.2f}": {
            "refused_answerable": round(sum(s < t for s in present) / len(present), 3),
            "refused_absent": round(sum(s < t for s in absent) / len(absent), 3),
        }
        for t in THRESHOLDS
    }


def auc(present: list[float], absent: list[float]) -> float:
    """The chance that an answerable question scores above an absent one (ties count half)."""
    pairs = [(p > a) + 0.5 * (p == a) for p in present for a in absent]
    return sum(pairs) / len(pairs)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", type=Path)
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--limit", type=int, default=200)
    parser.add_argument("--settings", type=Path, default=None, help="settings file (default: the defaults)")
    args = parser.parse_args()
    print(json.dumps(main(args.store, args.dataset, args.limit, args.settings)))
