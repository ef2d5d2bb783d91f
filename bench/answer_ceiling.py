"""Answer ceiling: `python bench/answer_ceiling.py STORE DATASET [--limit N] [--sentences 4 6 8]` prints one
JSON line.

How good could an answer made of the words the model is shown be? For the seeded sample of DATASET's
questions that `askdocs eval --answers` uses, retrieves passages as `askdocs ask` does and, for each number
of evidence sentences (`answers.evidence_sentences`; 0: whole passages), measures against the gold answers:

- `contained`: the share of questions whose gold answer is in what the prompt shows (no answer drawn from
  it can contain the gold answer more often);
- `best_sentence_f1`: token F1 of the sentence the evidence step ranks first (an extractive answer with no
  model at all);
- `oracle_sentence_f1`: token F1 of the best of the shown sentences (a perfect choice of one sentence);
- `oracle_span_f1`: token F1 of the best run of at most `SPAN_WORDS` consecutive words of one shown
  sentence (a perfect extractive reader).

With whole passages (0) only the first two are measured.

Scores use `askdocs eval --answers`'s own normalisation (`rag.answer_eval`). The collection must exist
already (`askdocs --store STORE eval DATASET`). No chat model is involved. Not part of the test suite.
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

from rag.answer_eval import best_f1, contains_gold, normalise_answer, sample_questions  # noqa: E402
from rag.evaluate import Question, eval_collection, load_questions, mean  # noqa: E402
from rag.evidence import GAP, MemoEmbed, select_evidence  # noqa: E402
from rag.retrieve import search  # noqa: E402
from rag.settings import Settings  # noqa: E402

SPAN_WORDS = 60  # longest run of words the span oracle tries (gold answers: median 10 words on covidqa_dev)


def span_oracle(sentences: list[str], question: Question) -> float:
    """The best token F1 of any run of up to `SPAN_WORDS` consecutive words of one sentence."""
    best = 0.0
    for sentence in sentences:
        words = normalise_answer(sentence).split()
        for start in range(len(words)):
            for end in range(start + 1, min(len(words), start + SPAN_WORDS) + 1):
                best = max(best, best_f1(" ".join(words[start:end]), question))
    return best


def ceiling(question: Question, passages: list, select, limit: int) -> dict[str, float]:
    """One question's ceilings with `limit` evidence sentences shown (0: the whole passages)."""
    selected = select(question.text, passages, limit=limit)
    shown = [s for p in selected.passages for s in p.text.split(GAP) if s.strip()]
    return {
        "contained": float(contains_gold(" ".join(shown), question)),
        "best_sentence_f1": best_f1(selected.best[1], question) if selected.best else 0.0,
        "oracle_sentence_f1": max((best_f1(s, question) for s in shown), default=0.0) if limit else None,
        "oracle_span_f1": span_oracle(shown, question) if limit else None,
    }


def ceilings(store, dataset: Path, settings: Settings, limit: int, counts: list[int]) -> dict:
    embed = MemoEmbed(store.sentence_embed)
    select = partial(select_evidence, embed=embed, rarity=store.lexical.rarity)
    rows: dict[int, list[dict[str, float]]] = {n: [] for n in counts}
    questions = sample_questions(load_questions(dataset), limit)
    for question in questions:
        passages = search(store, question.text, settings.retrieval.k, options=settings.retrieval).passages
        for n in counts:
            rows[n].append(ceiling(question, passages, select, n))
    return {
        "dataset": dataset.name,
        "questions": len(questions),
        "k": settings.retrieval.k,
        "by_evidence_sentences": {str(n): _means(rows[n]) for n in counts},
    }


def _means(rows: list[dict[str, float]]) -> dict[str, float | None]:
    keys = rows[0] if rows else {}
    return {key: _mean_or_none([r[key] for r in rows]) for key in keys}


def _mean_or_none(values: list[float | None]) -> float | None:
    return None if any(v is None for v in values) else round(mean(values), 3)


def main(store_path: Path, dataset: Path, limit: int, counts: list[int]) -> dict:
    settings = Settings().with_store(store_path)
    with eval_collection(settings, dataset) as (store, _ingested):
        return ceilings(store, dataset, settings, limit, counts)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", type=Path)
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--limit", type=int, default=0, help="questions in the sample (0: all usable)")
    parser.add_argument("--sentences", type=int, nargs="+", default=[4, 6, 8, 10, 0])
    args = parser.parse_args()
    print(json.dumps(main(args.store, args.dataset, args.limit or None, args.sentences)))
