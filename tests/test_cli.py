"""The installed `askdocs` console script, run as a user runs it."""

import json
import os
import shutil
import subprocess
import sys
import time
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
    assert status["files"] == 8 and status["chunks"] == first["chunks"] and status["sentence_vectors"] == 0
    assert status["embedding_model"] == "all-MiniLM-L6-v2" and status["store"] == store
    read = run("status", env={"ASKDOCS_STORE": store}).stdout  # a person reads the sync time as a date
    assert f"last_sync: {time.strftime('%Y-%m-%d %H:%M', time.localtime(status['last_sync']))}" in read


def test_human_output_streams_answer_then_sources(docs, store):
    assert run("--store", store, "ingest", str(docs)).returncode == 0
    result = run("--store", store, "ask", "Is the drip tray dishwasher-safe?", "--llm", "fake", "--k", "2")
    assert result.returncode == 0, result.stderr
    answer, sources = result.stdout.split("\nSources:\n")
    assert "top rack" in answer and sources.startswith(" [1] faq.html")
    checked = answer.split("Checked against the sources:\n")[1].splitlines()
    assert checked[0].startswith("  ✓ [1] ") and "top rack" in checked[0]
    assert checked[1].startswith('      "') and "top rack" in checked[1]  # the span of [1] that supports it


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
        (["--store", "{file}", "status"], 2, "is a file, not a folder"),
        (["--store", "{file}", "ingest", "."], 2, "is a file, not a folder"),
    ],
)
def test_errors_are_one_clear_line(store, tmp_path, args, code, message):
    (tmp_path / "a-file").write_text("x")
    args = [a.replace("{file}", str(tmp_path / "a-file")) for a in args]
    result = run("--store", store, *args)
    assert result.returncode == code, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr


def test_corrupt_settings_exit_2_naming_the_key(tmp_path, store):
    bad = tmp_path / "bad.yaml"
    bad.write_text("retrieval:\n  k: -4\n")
    result = run("--settings", str(bad), "--store", store, "status")
    assert result.returncode == 2 and "retrieval.k" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.fixture(scope="module")
def ingested(tmp_path_factory) -> str:
    """data/ ingested once through the CLI, for tests that only ask and chat."""
    store = str(tmp_path_factory.mktemp("cli") / "store")
    assert (
        run("--store", store, "ingest", str(Path(__file__).resolve().parent.parent / "data")).returncode == 0
    )
    return store


def test_a_conversation_continues_in_a_new_process(ingested):
    first = run_json("--store", ingested, "ask", "How do I descale the machine?", "--llm", "fake")
    session = first["session"]
    second = run_json(
        "--store", ingested, "ask", "How often should I do that?", "--session", session, "--llm", "fake"
    )
    assert second["session"] == session and second["condensed"] is True
    assert "descale" in second["standalone_question"].lower()
    assert second["sources"][0]["heading"].endswith("How often to descale") and "8 weeks" in second["answer"]

    third = run_json(
        "--store", ingested, "ask", "Is the drip tray dishwasher-safe?", "--continue", "--llm", "fake"
    )
    assert third["session"] == session and third["condensed"] is False

    shown = run_json("--store", ingested, "history", session[:6])
    assert [t["question"] for t in shown["history"]][1] == "How often should I do that?"
    assert (shown["follow_ups"], shown["condensed"], shown["condense_skipped"]) == (2, 1, 1)
    assert shown["history"][1]["standalone_question"] == second["standalone_question"]
    listed = run_json("--store", ingested, "history")["sessions"]
    assert any(s["id"] == session and s["turns"] == 3 for s in listed)

    assert run("--store", ingested, "history", session, "--rename", "Descaling").returncode == 0
    assert "Descaling" in run("--store", ingested, "history").stdout
    assert run("--store", ingested, "history", session, "--delete").returncode == 0
    assert session not in run("--store", ingested, "history").stdout


def test_ask_without_a_model_quotes_a_source_sentence(ingested):
    answer = run_json("--store", ingested, "ask", "Where do I send a warranty claim?", "--llm", "extractive")
    assert answer["answer"] == f"Send an email to claims@larkspur.example. [{answer['cited'][0]}]"
    assert "Send an email to claims@larkspur.example." in answer["sources"][answer["cited"][0] - 1]["text"]
    assert answer["sentences"][0]["supported"] and answer["extracted"] == ""
    refused = run_json("--store", ingested, "ask", "What is the capital of France?", "--llm", "extractive")
    assert refused["not_found"] and refused["cited"] == []


def test_chat_in_the_terminal_keeps_the_thread(ingested):
    script = "How do I descale the machine?\nHow often should I do that?\n/sessions\n/quit\n"
    result = subprocess.run(
        [ASKDOCS, "--store", ingested, "chat", "--llm", "fake"],
        input=script,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert "(searching for: How often should I do the descale machine?)" in result.stdout
    assert result.stdout.count("\nSources:\n") == 2 and "every 8 weeks" in result.stdout


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def ollama_settings(tmp_path):
    from fake_ollama import FakeOllama, start_fake_ollama

    fake = start_fake_ollama(FakeOllama())
    settings = tmp_path / "settings.yaml"
    settings.write_text(f"llm:\n  ollama_url: {fake.url}\n")
    yield str(settings), fake
    fake.stop()


def test_ask_through_ollama(ingested, ollama_settings):
    settings, fake = ollama_settings
    result = run(
        "--settings",
        settings,
        "--store",
        ingested,
        "ask",
        "How often to descale?",
        "--llm",
        "ollama:qwen2.5:0.5b",
    )
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.startswith("Descale it every 8 weeks [1].")
        and fake.chats()[0]["options"]["num_ctx"] == 4096
    )


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ["ask", "q?", "--session", "nosuchid"],
            2,
            "'nosuchid' is not a stored conversation: run `askdocs history`",
        ),
        (["history", "nosuchid"], 2, "run `askdocs history` to list them"),
        (
            ["ask", "q?", "--llm", "llamacpp:/no/such/model.gguf"],
            1,
            "GGUF model not found: /no/such/model.gguf",
        ),
        (["ask", "q?", "--llm", "ollama:llama3.2"], 1, "run `ollama pull llama3.2`"),
    ],
)
def test_conversation_and_backend_errors_are_one_clear_line(ingested, ollama_settings, args, code, message):
    result = run("--settings", ollama_settings[0], "--store", ingested, *args)
    assert result.returncode == code, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unreachable_ollama_and_a_file_that_is_not_gguf(ingested, tmp_path):
    settings = tmp_path / "settings.yaml"
    url = f"http://127.0.0.1:{free_port()}"
    settings.write_text(f"llm:\n  ollama_url: {url}\n")
    result = run("--settings", str(settings), "--store", ingested, "ask", "q?", "--llm", "ollama:llama3.2")
    assert (
        result.returncode == 1
        and f"cannot reach Ollama at {url}: is `ollama serve` running there?" in result.stderr
    )
    not_gguf = tmp_path / "model.gguf"
    not_gguf.write_text("just text")
    result = run("--store", ingested, "ask", "q?", "--llm", f"llamacpp:{not_gguf}")
    assert (
        result.returncode == 1
        and "is not a GGUF model file" in result.stderr
        and "Traceback" not in result.stderr
    )
    sessions = run_json("--store", ingested, "history")["sessions"]
    assert all(s["turns"] > 0 for s in sessions)  # a failed start leaves no empty conversation behind


@pytest.mark.slow
def test_chat_streams_the_default_models_answer_as_it_is_generated(ingested):
    """The first words reach the terminal while the model is still generating the rest."""
    child = subprocess.Popen(
        [ASKDOCS, "--store", ingested, "chat"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    child.stdin.write(b"Where do I send a warranty claim?\n/quit\n")
    child.stdin.close()
    reads: list[bytes] = []
    while chunk := os.read(child.stdout.fileno(), 4096):
        reads.append(chunk)
    assert child.wait(timeout=600) == 0, child.stderr.read().decode()
    output = b"".join(reads).decode()
    before_sources = [r for r in reads if r.strip()][
        : next(i for i, r in enumerate(reads) if b"Sources" in r)
    ]
    answer_pieces = [r for r in before_sources if b"you>" not in r and b"askdocs chat" not in r]
    assert len(answer_pieces) >= 3, reads  # the answer arrived in several pieces, not at once
    assert "claims@larkspur.example" in output.lower() and "Sources:" in output


def test_a_second_ingest_waits_for_the_writer_or_says_who_holds_the_store(docs, store):
    from rag.lock import write_lock

    with write_lock(Path(store), "ingest"):
        result = run("--store", store, "ingest", str(docs), "--wait", "0.5")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"process {os.getpid()} (ingest, since" in result.stderr and "retry with --wait" in result.stderr
    assert run("--store", store, "ingest", str(docs)).returncode == 0
