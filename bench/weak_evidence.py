"""Weak-evidence signal: `python bench/weak_evidence.py STORE SET_A SET_B [--limit N]` prints one JSON line.

Asks SET_B's questions against SET_A's evaluation collection (answers absent: those files are not in it)
and SET_A's own questions against it (answers present), and reports how many of each the configured
`retrieval.min_score` flags as weak evidence, with the flag's precision. Both collections must exist
already (`askdocs --store STORE eval SET_A`). Not part of the test suite.
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
from rag.retrieve import search  # noqa: E402
from rag.settings import Settings  # noqa: E402


def flagged(store, questions, settings: Settings) -> int:
    return sum(
        search(store, q.text, settings.retrieval.k, options=settings.retrieval).weak_evidence
        for q in questions
    )


def main(store_path: Path, own: Path, other: Path, limit: int) -> dict:
    settings = Settings().with_store(store_path)
    root = eval_store_root(settings, own)
    if not root.exists():
        raise SystemExit(
            f"no evaluation collection for {own} in {store_path}: run `askdocs eval {own}` first"
        )
    store = open_collection(settings, root=root)
    present, absent = load_questions(own)[:limit], load_questions(other)[:limit]
    hits_absent, hits_present = flagged(store, absent, settings), flagged(store, present, settings)
    store.close()
    total = hits_absent + hits_present
    return {
        "collection": own.name,
        "absent_from": other.name,
        "min_score": settings.retrieval.min_score,
        "absent_flagged": f"{hits_absent}/{len(absent)}",
        "present_flagged": f"{hits_present}/{len(present)}",
        "precision": round(hits_absent / total, 3) if total else None,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("store", type=Path)
    parser.add_argument("own", type=Path)
    parser.add_argument("other", type=Path)
    parser.add_argument("--limit", type=int, default=300)
    args = parser.parse_args()
    print(json.dumps(main(args.store, args.own, args.other, args.limit)))
