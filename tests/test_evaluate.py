"""Evaluation on a small dataset made from the sample documents, with the real embedding model."""

import json
import shutil
from pathlib import Path

import pytest

from rag.errors import DatasetError, StoreBusyError
from rag.evaluate import RECALL_DEPTH, eval_store_root, load_questions, run_eval
from rag.lock import write_lock
from rag.settings import RetrievalSettings, Settings

DATA = Path(__file__).resolve().parent.parent / "data"

QUESTIONS = [
    ("How long are accessories like the portafilter covered?", ["warranty.pdf"]),
    ("After how many minutes does eco standby start?", ["release-notes.txt"]),
    ("How much water does the tank hold?", ["setup-guide.md"]),
    ("What does the warranty cover and how do I descale?", ["warranty.pdf", "maintenance.docx"]),
]


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    """One store for the module: the second evaluation finds the collection already synced."""
    return Settings().with_store(tmp_path_factory.mktemp("eval") / "store")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("dataset")
    shutil.copytree(DATA, root / "docs")
    lines = [json.dumps({"question": q, "source_files": files}) for q, files in QUESTIONS]
    eco = {"question": "When does eco standby start?", "source_files": ["release-notes.txt"]}
    answer = "After 20  MINUTES without any button being pressed"
    lines.append(json.dumps({**eco, "answers": [answer], "answer_spans": [{"file": "release-notes.txt"}]}))
    (root / "qa.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def test_scores_the_settings_retrieval(settings, dataset):
    result = run_eval(settings, dataset, k=3)
    assert result["dataset"] == dataset.name and result["questions"] == 5 and result["k"] == 3
    assert result["answer_found@3"] == 1.0  # only the eco question has an extractive gold answer
    assert result["hit@1"] >= 0.75 and result["hit@3"] == 1.0 and 0.75 <= result["mrr"] <= 1.0
    assert result["multi_doc_questions"] == 1
    assert 0.5 <= result["recall@3_multi_doc"] <= result[f"recall@{RECALL_DEPTH}_multi_doc"] <= 1.0
    for stage in ("retrieve", "dense", "lexical", "fusion", "diversity"):
        assert 0 <= result[f"{stage}_ms_p50"] <= result[f"{stage}_ms_p95"]
    assert result["weak_evidence_rate"] == 0.0
    assert result["chunks"] > 8 and result["ingest_failed"] == []


def test_compares_configurations_on_one_collection(settings, dataset):
    configs = {"dense": RetrievalSettings(lexical=False), "hybrid": RetrievalSettings()}
    result = run_eval(settings, dataset, k=3, configs=configs)
    assert [r["config"] for r in result["results"]] == ["dense", "hybrid"]
    assert "lexical_ms_p50" not in result["results"][0] and "lexical_ms_p50" in result["results"][1]
    assert all(r["hit@3"] == 1.0 for r in result["results"]) and result["chunks"] > 8


def test_a_second_evaluation_of_the_dataset_at_once_is_refused_in_one_line(settings, dataset):
    with write_lock(eval_store_root(settings, dataset), "another evaluation"):
        with pytest.raises(StoreBusyError) as refused:
            run_eval(settings, dataset, k=3)
    message = str(refused.value)
    assert "another evaluation" in message and "run one evaluation of a dataset at a time" in message
    assert "--wait" not in message and "\n" not in message
    assert run_eval(settings, dataset, k=3)["questions"] == 5  # free again once the first is done


def test_dataset_layout_is_checked(tmp_path):
    with pytest.raises(DatasetError, match="docs/ and qa.jsonl"):
        load_questions(tmp_path)
    (tmp_path / "docs").mkdir()
    (tmp_path / "qa.jsonl").write_text('{"question": "no sources"}\n', encoding="utf-8")
    with pytest.raises(DatasetError, match="qa.jsonl:1"):
        load_questions(tmp_path)
