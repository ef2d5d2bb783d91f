"""The installed `askdocs` console script, run as a user runs it."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ASKDOCS = str(Path(sys.executable).parent / "askdocs")


def run(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [ASKDOCS, *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )


def run_json(*args: str, **kwargs) -> dict:
    result = run(*args, "--json", **kwargs)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def store(tmp_path) -> str:
    return str(tmp_path / "store")


def test_ingest_retrieve_ask_status_round_trip(docs, store):
    first = run_json("--store", store, "ingest", str(docs))
    assert (first["added"], first["updated"], first["unchanged"], first["removed"]) == (8, 0, 0, 0)
    assert first["failed"] == [] and first["chunks"] > 8 and isinstance(first["skipped"], list)

    again = run_json("--store", store, "ingest", str(docs))
    assert (again["added"], again["unchanged"], again["embedded_chunks"], again["chunks"]) == (
        0,
        8,
        0,
        first["chunks"],
    )

    results = run_json(
        "--store", store, "retrieve", "When was Larkspur Appliances founded and where?", "--k", "3"
    )["results"]
    assert [r["rank"] for r in results] == [1, 2, 3]
    assert results[0]["file"] == "onboarding-slides.pptx" and results[0]["page"] == 1
    off_topic = run_json("--store", store, "retrieve", "Who won the football world cup in 1998?")
    assert off_topic["weak_evidence"] is True and off_topic["results"]
    assert {"rank", "file", "path", "page", "chunk_id", "score", "text"} <= set(results[0])

    only = run_json(
        "--store", store, "retrieve", "warranty claim", "--file", "faq.html", "--where", "nowhere"
    )
    assert only["results"] and {r["file"] for r in only["results"]} == {"faq.html"}
    folder = run_json("--store", store, "retrieve", "warranty claim", "--where", docs.name, "--k", "2")
    assert len(folder["results"]) == 2
    refused = run("--store", store, "retrieve", "warranty", "--where", "../etc")
    assert refused.returncode == 2 and "'..' is not allowed" in refused.stderr
    unknown = run("--store", store, "ask", "warranty", "--file", "nope.pdf", "--llm", "fake")
    assert unknown.returncode == 2 and "no file in the store matches nope.pdf" in unknown.stderr

    answer = run_json("--store", store, "ask", "What is the price of the shower screen?", "--llm", "fake")
    assert "14.90" in answer["answer"] and answer["cited"] and answer["sources"]
    assert {"n", "file", "path", "page", "chunk_id", "text"} <= set(answer["sources"][0])
    assert set(answer["timings"]) >= {"retrieve_ms", "total_ms"}

    status = run_json("status", env={"ASKDOCS_STORE": store})
    assert status["files"] == 8 and status["chunks"] == first["chunks"]
    assert status["embedding_model"] == "all-MiniLM-L6-v2" and status["store"] == store


def test_human_output_streams_answer_then_sources(docs, store):
    assert run("--store", store, "ingest", str(docs)).returncode == 0
    result = run("--store", store, "ask", "Is the drip tray dishwasher-safe?", "--llm", "fake", "--k", "2")
    assert result.returncode == 0, result.stderr
    answer, sources = result.stdout.split("Sources (* = cited):")
    assert "top rack" in answer and "*[1] faq.html" in sources


def test_dry_run_and_prune_via_cli(docs, store):
    run_json("--store", store, "ingest", str(docs))
    (docs / "faq.html").unlink()
    preview = run_json("--store", store, "ingest", str(docs), "--prune", "--dry-run")
    assert preview["removed"] == 1 and preview["dry_run"] is True
    assert run_json("--store", store, "ingest", str(docs), "--prune")["removed"] == 1
    assert run_json("--store", store, "ingest", str(docs), "--prune")["removed"] == 0


def test_eval_on_a_user_folder(tmp_path, store):
    dataset = tmp_path / "mine"
    (dataset / "docs").mkdir(parents=True)
    for name in ("warranty.pdf", "faq.html", "maintenance.docx"):
        shutil.copy(Path(__file__).resolve().parent.parent / "data" / name, dataset / "docs" / name)
    questions = [
        ("Where do I send a warranty claim?", ["warranty.pdf"]),
        ("Is the drip tray dishwasher-safe?", ["faq.html"]),
        ("What is the part number of the group gasket?", ["maintenance.docx"]),
        (
            "What is not covered by the warranty, and how often to descale?",
            ["warranty.pdf", "maintenance.docx"],
        ),
    ]
    with (dataset / "qa.jsonl").open("w") as handle:
        for i, (question, files) in enumerate(questions):
            handle.write(json.dumps({"id": str(i), "question": question, "source_files": files}) + "\n")
    result = run_json("--store", store, "eval", str(dataset), "--k", "5")
    assert result["questions"] == 4 and result["multi_doc_questions"] == 1
    assert result["hit@1"] >= 0.75 and result["hit@5"] == 1.0 and 0.75 <= result["mrr"] <= 1.0
    assert result["retrieve_ms_p95"] >= result["retrieve_ms_p50"] > 0
    assert 0.5 <= result["recall@5_multi_doc"] <= result["recall@10_multi_doc"] <= 1.0
    assert result["lexical_ms_p95"] >= result["lexical_ms_p50"] >= 0

    (tmp_path / "dense.yaml").write_text("retrieval:\n  lexical: false\n")
    (tmp_path / "capped.yaml").write_text("retrieval:\n  max_per_file: 1\n")
    chart = tmp_path / "chart.png"
    configs = [str(tmp_path / "dense.yaml"), str(tmp_path / "capped.yaml")]
    compared = run("--store", store, "eval", str(dataset), "--compare", *configs, "--chart", str(chart))
    assert compared.returncode == 0, compared.stderr
    header, _, dense, capped, chart_line = compared.stdout.strip().splitlines()
    assert header.split()[:4] == ["config", "hit@1", "hit@5", "mrr"]
    assert dense.split()[0] == "dense" and capped.split()[0] == "capped"
    assert chart_line == f"chart: {chart}" and chart.read_bytes().startswith(b"\x89PNG")
    assert run("--store", store, "eval", str(dataset), *configs).returncode == 2  # files need --compare


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["ingest", "/no/such/folder"], 2, "no such file or folder"),
        (["ask", "hello", "--llm", "gpt4"], 2, "unknown model backend"),
        (["ask", "hello", "--llm", "fake"], 1, "run `askdocs ingest FOLDER` first"),
        (["retrieve", "hello", "--k", "-3"], 2, "--k"),
        (["eval", "/no/such/dataset"], 1, "docs/ and qa.jsonl"),
    ],
)
def test_errors_are_one_clear_line(store, args, code, message):
    result = run("--store", store, *args)
    assert result.returncode == code, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr


def test_corrupt_settings_exit_2_naming_the_key(tmp_path, store):
    bad = tmp_path / "bad.yaml"
    bad.write_text("retrieval:\n  k: -4\n")
    result = run("--settings", str(bad), "--store", store, "status")
    assert result.returncode == 2 and "retrieval.k" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
