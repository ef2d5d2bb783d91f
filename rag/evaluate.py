"""Retrieval evaluation on a folder laid out as `docs/` + `qa.jsonl` (the shared sets, or a user's own).

Ingests `docs/` into a collection of its own (kept under the store's `eval/` folder and synced, so a
re-run only re-embeds what changed; `fresh=True` rebuilds it) and scores document-level hit@1, hit@k,
MRR, recall@k of gold files on multi-document questions, and retrieval latency. It does not generate
answers (answer metrics come with the answer-quality work).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.sync import SyncReport, sync
from rag.components import collection_and_manifest
from rag.errors import DatasetError
from rag.retrieve import retrieve
from rag.settings import Settings


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    gold_files: frozenset[str]


def load_questions(dataset: Path) -> list[Question]:
    """The questions of `dataset/qa.jsonl` with their gold source files."""
    qa_path = dataset / "qa.jsonl"
    if not (dataset / "docs").is_dir() or not qa_path.is_file():
        raise DatasetError(f"{dataset} must contain docs/ and qa.jsonl (one JSON object per line)")
    questions = []
    for number, line in enumerate(qa_path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            questions.append(_parse_question(line, number, qa_path))
    if not questions:
        raise DatasetError(f"{qa_path} has no questions")
    return questions


def _parse_question(line: str, number: int, qa_path: Path) -> Question:
    try:
        row = json.loads(line)
        return Question(str(row.get("id", number)), row["question"], frozenset(row["source_files"]))
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise DatasetError(f"{qa_path}:{number}: needs 'question' and 'source_files' ({exc})") from None


def eval_store_root(settings: Settings, dataset: Path) -> Path:
    """Where the dataset's own collection lives: under the store, keyed by the dataset's path."""
    key = hashlib.sha256(str(dataset.resolve()).encode()).hexdigest()[:10]
    return settings.store.path / "eval" / f"{dataset.resolve().name}-{key}"


def run_eval(
    settings: Settings, dataset: Path, k: int, fresh: bool = False, progress: bool = False
) -> dict[str, Any]:
    """Ingest the dataset's docs, ask every question, and score the retrieval."""
    questions = load_questions(dataset)
    root = eval_store_root(settings, dataset)
    if fresh and root.exists():
        shutil.rmtree(root)
    with collection_and_manifest(settings, root=root) as (store, manifest):
        started = time.perf_counter()
        report = sync([dataset / "docs"], store, manifest, settings.chunking, prune=True, progress=progress)
        ingest_s = time.perf_counter() - started
        scores = [_score(store, question, dataset / "docs", k) for question in questions]
    return _summary(dataset, k, scores, report, ingest_s)


def _score(store, question: Question, docs: Path, k: int) -> dict[str, float]:
    start = time.perf_counter()
    passages = retrieve(store, question.text, k)
    latency_ms = (time.perf_counter() - start) * 1000
    files = [_relative(Path(p.path), docs) for p in passages]
    first = next((i for i, name in enumerate(files) if name in question.gold_files), None)
    found = question.gold_files.intersection(files)
    return {
        "hit1": float(first == 0),
        "hitk": float(first is not None),
        "rr": 0.0 if first is None else 1.0 / (first + 1),
        "recall": len(found) / len(question.gold_files),
        "multi": float(len(question.gold_files) > 1),
        "latency_ms": latency_ms,
    }


def _relative(path: Path, docs: Path) -> str:
    try:
        return path.relative_to(docs.absolute()).as_posix()
    except ValueError:
        return path.name


def _summary(
    dataset: Path, k: int, scores: list[dict[str, float]], report: SyncReport, ingest_s: float
) -> dict:
    multi = [s["recall"] for s in scores if s["multi"]]
    latencies = sorted(s["latency_ms"] for s in scores)
    return {
        "dataset": dataset.resolve().name,
        "questions": len(scores),
        "k": k,
        "hit@1": _mean(s["hit1"] for s in scores),
        f"hit@{k}": _mean(s["hitk"] for s in scores),
        "mrr": _mean(s["rr"] for s in scores),
        f"recall@{k}_multi_doc": _mean(multi) if multi else None,
        "multi_doc_questions": len(multi),
        "retrieve_ms_p50": round(statistics.median(latencies), 1),
        "retrieve_ms_p95": round(latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))], 1),
        "chunks": report.chunks,
        "ingest_s": round(ingest_s, 1),
        "ingest_failed": report.failed,
    }


def _mean(values) -> float:
    values = list(values)
    return round(sum(values) / len(values), 3) if values else 0.0
