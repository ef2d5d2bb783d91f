"""Weak-evidence signal: `python bench/weak_evidence.py STORE SET_A SET_B [--limit N] [--settings FILE]
[--thresholds 0.35,0.5]` prints one JSON line per threshold.

Asks SET_B's questions against SET_A's evaluation collection (answers absent: those files are not in it)
and SET_A's own questions against it (answers present), and reports how many of each `retrieval.min_score`
(the settings' own, or each of --thresholds) flags as weak evidence, with the flag's precision. The
collection must exist already (`askdocs --store STORE [--settings FILE] eval SET_A`): with another
`embeddings.model`, pass the same settings file. Not part of the test suite.
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

from rag.components import open_collection  # noqa: E402
from rag.evaluate import eval_store_root, load_questions  # noqa: E402
from rag.passages import best_score  # noqa: E402
from rag.retrieve import search  # noqa: E402
from rag.settings import Settings, load_settings  # noqa: E402


def best_scores(store, questions, settings: Settings) -> list[float]:
    """The best cosine of each question's passages (0 when none is found)."""
    found = (search(store, q.text, settings.retrieval.k, options=settings.retrieval) for q in questions)
    return [best_score(result.passages) for result in found]


def flag_counts(best_absent: list[float], best_present: list[float], min_score: float, names: dict) -> dict:
    hits_absent = sum(score < min_score for score in best_absent)
    hits_present = sum(score < min_score for score in best_present)
    total = hits_absent + hits_present
    return {
        **names,
        "min_score": min_score,
        "absent_flagged": f"{hits_absent}/{len(best_absent)}",
        "present_flagged": f"{hits_present}/{len(best_present)}",
        "precision": round(hits_absent / total, 3) if total else None,
    }


def main(store_path: Path, own: Path, other: Path, limit: int, settings_file: Path | None, thresholds: str):
    settings = load_settings(settings_file).with_store(store_path)
    root = eval_store_root(settings, own)
    if not root.exists():
        raise SystemExit(
            f"no evaluation collection for {own} in {store_path}: run `askdocs eval {own}` first"
        )
    store = open_collection(settings, root=root)
    present, absent = load_questions(own)[:limit], load_questions(other)[:limit]
    best_absent, best_present = best_scores(store, absent, settings), best_scores(store, present, settings)
    store.close()
    names = {"collection": own.name, "absent_from": other.name}
    levels = [float(t) for t in thresholds.split(",")] if thresholds else [settings.retrieval.min_score]
    return [flag_counts(best_absent, best_present, level, names) for level in levels]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("store", type=Path)
    parser.add_argument("own", type=Path)
    parser.add_argument("other", type=Path)
    parser.add_argument("--limit", type=int, default=300)
    parser.add_argument("--settings", type=Path, default=None)
    parser.add_argument("--thresholds", default="", help="comma-separated min_score values to report")
    args = parser.parse_args()
    for line in main(args.store, args.own, args.other, args.limit, args.settings, args.thresholds):
        print(json.dumps(line))
