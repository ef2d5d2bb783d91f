"""Retrieval evaluation on a folder laid out as `docs/` + `qa.jsonl` (the shared sets, or a user's own).

Ingests `docs/` into a collection of its own (kept under the store's `eval/` folder, in embedded Chroma
even when `store.server` is set, and synced, so a re-run only re-embeds what changed; `fresh=True`
rebuilds it) and scores, per retrieval configuration,
document-level hit@1, hit@k, MRR (of the first gold file in the top k), recall@k and recall@10 of gold
files on multi-document questions, answer_found@k (on questions whose row has `answer_spans`, i.e. an
extractive answer: the answer's text, or its first 60 characters, occurs in a top-k passage), the share
of questions flagged as weak evidence (false alarms, when every answer is in `docs/`), and latency
p50/p95 of the whole retrieval and of each stage. Several configurations can be scored on the same collection
(`askdocs eval --compare`). It does not generate answers (see `rag.answer_eval`).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import statistics
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.sync import SyncReport, absolute_path, sync
from rag.components import collection_and_manifest
from rag.errors import DatasetError
from rag.lock import write_lock
from rag.retrieve import search
from rag.settings import RetrievalSettings, Settings
from rag.store import Store

RECALL_DEPTH = 10  # recall of gold files on multi-document questions is also reported at this depth


ANSWER_PREFIX = 60  # a long gold answer counts as found when its first characters are in a passage


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    gold_files: frozenset[str]
    answer: str = ""  # the first gold answer, normalised (lower case, single spaces), if it is extractive
    answers: tuple[str, ...] = ()  # every gold answer, as written
    flagged: bool = False  # the set marks the question as doubtful (its row has non-empty `flags`)


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
        extractive = bool(row.get("answer_spans"))  # the answer is a span of a gold file's text
        answer = _normalise(str((row.get("answers") or [""])[0]))[:ANSWER_PREFIX] if extractive else ""
        return Question(
            str(row.get("id", number)),
            row["question"],
            frozenset(row["source_files"]),
            answer,
            tuple(str(a) for a in row.get("answers") or ()),
            bool(row.get("flags")),
        )
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise DatasetError(f"{qa_path}:{number}: needs 'question' and 'source_files' ({exc})") from None


def eval_store_root(settings: Settings, dataset: Path) -> Path:
    """Where the dataset's own collection lives: under the store, keyed by the dataset's path."""
    key = hashlib.sha256(str(dataset.resolve()).encode()).hexdigest()[:10]
    return settings.store.path / "eval" / f"{dataset.resolve().name}-{key}"


def run_eval(
    settings: Settings,
    dataset: Path,
    k: int,
    fresh: bool = False,
    progress: bool = False,
    configs: dict[str, RetrievalSettings] | None = None,
) -> dict[str, Any]:
    """Ingest the dataset's docs, ask every question under each retrieval configuration, and score.

    Without `configs`, the settings' own retrieval section is scored and its summary returned; with
    them, `{"results": [summary per configuration]}` with the shared ingestion facts.
    """
    questions = load_questions(dataset)
    with eval_collection(settings, dataset, fresh, progress) as (store, facts):
        chosen = configs or {"settings": settings.retrieval}
        docs = dataset / "docs"
        results = [_score_config(store, questions, docs, k, name, opt) for name, opt in chosen.items()]
    if configs is None:
        return {"dataset": facts.pop("dataset"), **results[0], **facts}
    return {**facts, "results": results}


@contextmanager
def eval_collection(
    settings: Settings, dataset: Path, fresh: bool = False, progress: bool = False
) -> Iterator[tuple[Store, dict[str, Any]]]:
    """The dataset's own collection, synced with its docs/, and the ingestion facts (chunks, seconds).
    Its write lock is held throughout: a second evaluation of the dataset on this store is refused
    (`StoreBusyError`) instead of syncing the same Chroma directory and index at once."""
    root = eval_store_root(settings, dataset)
    if fresh and root.exists():
        shutil.rmtree(root)
    # The dataset's own collection is embedded under the store folder, never put on a Chroma server.
    local = settings.model_copy(update={"store": settings.store.model_copy(update={"server": ""})})
    with (
        write_lock(root, f"evaluating on {dataset.name}", retry="run one evaluation of a dataset at a time"),
        collection_and_manifest(local, root=root) as (store, manifest),
    ):
        started = time.perf_counter()
        report = sync([dataset / "docs"], store, manifest, settings.chunking, prune=True, progress=progress)
        yield store, _ingest_facts(dataset, report, time.perf_counter() - started)


def _score_config(
    store: Store, questions: list[Question], docs: Path, k: int, name: str, options: RetrievalSettings
) -> dict[str, Any]:
    store.embeddings.embed_query("warm-up")  # the first query loads the model; keep it out of latencies
    scores = [_score(store, question, docs, k, options) for question in questions]
    return {"config": name, **_summary(k, scores)}


def _score(store: Store, question: Question, docs: Path, k: int, options: RetrievalSettings) -> dict:
    start = time.perf_counter()
    result = search(store, question.text, max(k, RECALL_DEPTH), options=options)
    latency_ms = (time.perf_counter() - start) * 1000
    files = [relative_name(Path(p.path), docs) for p in result.passages]
    first = next((i for i, name in enumerate(files[:k]) if name in question.gold_files), None)
    return {
        "hit1": float(first == 0),
        "hitk": float(first is not None),
        "rr": 0.0 if first is None else 1.0 / (first + 1),
        "recall": _recall(question.gold_files, files[:k]),
        "recall_depth": _recall(question.gold_files, files[:RECALL_DEPTH]),
        "multi": float(len(question.gold_files) > 1),
        "weak": float(result.weak_evidence),
        "answer_found": _answer_found(question, [p.text for p in result.passages[:k]]),
        "latency_ms": latency_ms,
        "stages_ms": result.timings_ms,
    }


def _normalise(text: str) -> str:
    return " ".join(text.lower().split())


def _answer_found(question: Question, texts: list[str]) -> float | None:
    if not question.answer:
        return None
    return float(any(question.answer in _normalise(text) for text in texts))


def _recall(gold: frozenset[str], files: list[str]) -> float:
    return len(gold.intersection(files)) / len(gold)


def relative_name(path: Path, docs: Path) -> str:
    """A stored file's name as the question set writes it: its path under docs/."""
    try:
        return path.relative_to(absolute_path(docs)).as_posix()
    except ValueError:
        return path.name


def _summary(k: int, scores: list[dict]) -> dict[str, Any]:
    multi = [s for s in scores if s["multi"]]
    summary: dict[str, Any] = {
        "questions": len(scores),
        "k": k,
        "hit@1": mean(s["hit1"] for s in scores),
        f"hit@{k}": mean(s["hitk"] for s in scores),
        "mrr": mean(s["rr"] for s in scores),
        f"recall@{k}_multi_doc": mean(s["recall"] for s in multi) if multi else None,
        f"recall@{RECALL_DEPTH}_multi_doc": mean(s["recall_depth"] for s in multi) if multi else None,
        "multi_doc_questions": len(multi),
        f"answer_found@{k}": _mean_or_none(s["answer_found"] for s in scores),
        "weak_evidence_rate": mean(s["weak"] for s in scores),
        "retrieve_ms_p50": percentile([s["latency_ms"] for s in scores], 0.50),
        "retrieve_ms_p95": percentile([s["latency_ms"] for s in scores], 0.95),
    }
    for stage in sorted({stage for s in scores for stage in s["stages_ms"]}):
        times = [s["stages_ms"][stage] for s in scores if stage in s["stages_ms"]]
        summary[f"{stage}_ms_p50"] = percentile(times, 0.50)
        summary[f"{stage}_ms_p95"] = percentile(times, 0.95)
    return summary


def _ingest_facts(dataset: Path, report: SyncReport, ingest_s: float) -> dict[str, Any]:
    return {
        "dataset": dataset.resolve().name,
        "chunks": report.chunks,
        "ingest_s": round(ingest_s, 1),
        "ingest_failed": report.failed,
    }


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if fraction == 0.50:
        return round(statistics.median(ordered), 1)
    return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))], 1)


def _mean_or_none(values: Iterable[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return mean(known) if known else None


def mean(values: Iterable[float]) -> float:
    values = list(values)
    return round(sum(values) / len(values), 3) if values else 0.0
