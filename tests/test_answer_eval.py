"""Answer evaluation: the metrics on their own, and a whole run with the shipped fake model and real
embeddings over a two-document set."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.answer_eval import (
    contains,
    normalise_answer,
    run_answer_eval,
    sample_questions,
    score_answer,
    token_f1,
)
from rag.chain import Answer
from rag.cli import app
from rag.evaluate import Question, load_questions
from rag.llms import build_llm
from rag.passages import Passage
from rag.settings import AnswerSettings, Settings
from rag.support import CheckedAnswer, CheckedSentence

DOCS = {
    "boiler.txt": "The Nimbus K2 boiler holds 0.8 litres of water. Its lid is made of blue steel.",
    "shipping.txt": "Shipping to Norway takes five working days. Returns are free within thirty days.",
}
QUESTIONS = [
    ("How much water does the Nimbus K2 boiler hold?", "0.8 litres of water", "boiler.txt"),
    ("How long does shipping to Norway take?", "five working days", "shipping.txt"),
]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("answers")
    (root / "docs").mkdir()
    for name, text in DOCS.items():
        (root / "docs" / name).write_text(text, encoding="utf-8")
    rows = [{"question": q, "answers": [a], "source_files": [f], "flags": []} for q, a, f in QUESTIONS]
    rows.append({"question": "Doubtful?", "answers": ["x"], "source_files": ["boiler.txt"], "flags": ["odd"]})
    (root / "qa.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return root


def test_token_f1_and_containment_normalise_case_punctuation_and_articles():
    assert normalise_answer("The  Boiler, holds: 0.8 L!") == "boiler holds 08 l"
    assert token_f1("It holds 0.8 litres.", "0.8 litres") == pytest.approx(2 * 0.5 * 1 / 1.5)
    assert token_f1("Blue.", "0.8 litres") == 0.0
    assert contains("The boiler holds 0.8 Litres of water. [1]", "0.8 litres of water")
    assert not contains("0.8 litres", "0.8 litres of water") and not contains("anything", "")


def test_the_sample_is_seeded_and_skips_flagged_or_answerless_questions():
    questions = [Question(str(i), f"q{i}", frozenset({"f"}), answers=("a",)) for i in range(10)]
    questions += [Question("odd", "q", frozenset({"f"}), answers=("a",), flagged=True)]
    questions += [Question("none", "q", frozenset({"f"}))]
    first = sample_questions(questions, 5, seed=1)
    assert first == sample_questions(questions, 5, seed=1) and len(first) == 5
    assert {q.id for q in sample_questions(questions, None)} == {str(i) for i in range(10)}


def test_a_run_scores_answers_citations_and_refusals(dataset, tmp_path, real_embeddings):
    answers = AnswerSettings(min_evidence=0.45)
    settings = Settings(answers=answers).with_store(tmp_path / "store")
    model = build_llm("fake", settings.llm, tmp_path)
    result = run_answer_eval(settings, dataset, model, limit=None, absent=2)
    assert result["questions"] == 2 and result["absent_questions"] == 2
    assert result["containment"] == 1.0 and 0.4 < result["f1"] < 1.0  # a whole sentence holds the answer
    assert result["citation_precision_model"] == 1.0 and result["citation_precision_gold"] == 1.0
    assert result["citation_precision_stating"] == 1.0
    assert result["citation_recall"] == 1.0 and result["cited_gold_file"] == 1.0
    assert result["refused_answerable"] == 0.0 and result["refused_absent"] == 1.0
    assert result["gold_in_sources"] == result["gold_in_prompt"] == result["containment_given_prompt"] == 1.0
    records = result["records"]
    assert [r["absent"] for r in records] == [False, False, True, True]
    assert all(r["first_token_ms"] is not None for r in records)
    assert [r["gold_in_sources"] for r in records] == [1.0, 1.0, 0.0, 0.0]  # left out with their files
    assert all(r["evidence_strength"] >= 0.45 for r in records[:2]) and result["extracted_answerable"] == 0.0


def test_a_miss_is_traced_to_the_sources_the_prompt_or_the_model():
    question = Question("1", "How much water does it hold?", frozenset({"b.txt"}), answers=("0.8 litres",))
    whole = Passage(1, "b.txt", "/docs/b.txt", None, "", "c1", 0.9, "The lid is blue. It holds 0.8 Litres.")
    shown = Passage(1, "b.txt", "/docs/b.txt", None, "", "c1", 0.9, "The lid is blue.")
    answer = Answer(question.text, "The lid is blue [1].", [whole], [1], shown=[shown])
    record = score_answer(answer, question, Path("/docs"))
    assert record["gold_in_sources"] == 1.0 and record["gold_in_prompt"] == 0.0  # the evidence step lost it
    missed = Answer(question.text, "Blue [1].", [whole], [1], shown=[whole])
    record = score_answer(missed, question, Path("/docs"))
    assert record["gold_in_prompt"] == 1.0 and record["contained"] == 0.0  # shown, and the model missed it


def test_only_the_sentence_stating_the_gold_answer_is_judged_by_gold_passages():
    question = Question("1", "How much water does it hold?", frozenset({"b.txt"}), answers=("0.8 litres",))
    gold = Passage(1, "b.txt", "/docs/b.txt", None, "", "c1", 0.9, "It holds 0.8 litres.")
    other = Passage(2, "b.txt", "/docs/b.txt", None, "", "c2", 0.8, "The lid is blue steel.")
    checked = CheckedAnswer(
        [
            CheckedSentence("It holds 0.8 litres.", (1,), (1,)),
            CheckedSentence("The lid is made of blue steel.", (2,), (2,)),
        ]
    )
    answer = Answer(question.text, checked.text, [gold, other], [1, 2], checked=checked)
    record = score_answer(answer, question, Path("/docs"))
    assert (record["gold_markers"], record["gold_markers_right"]) == (2, 1)  # the lid's marker counts
    assert (record["stating_markers"], record["stating_markers_right"]) == (1, 1)


def test_the_cli_prints_the_summary_and_writes_records(dataset, tmp_path):
    out = tmp_path / "records.jsonl"
    store = tmp_path / "store"
    args = ["--store", str(store), "eval", str(dataset), "--answers", "--llm", "fake", "--limit", "0"]
    result = CliRunner().invoke(app, [*args, "--absent", "1", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["llm"] == "fake" and summary["questions"] == 2 and summary["absent_questions"] == 1
    assert len(out.read_text().splitlines()) == 3


@pytest.mark.parametrize("seed", [0, 1])
def test_the_cli_answers_the_sample_its_seed_names(dataset, tmp_path, seed):
    out = tmp_path / "records.jsonl"
    args = ["--store", str(tmp_path / "store"), "eval", str(dataset), "--answers", "--llm", "fake"]
    options = ["--limit", "1", "--absent", "0", "--seed", str(seed), "--out", str(out), "--json"]
    result = CliRunner().invoke(app, [*args, *options])
    assert result.exit_code == 0, result.output
    expected = sample_questions(load_questions(dataset), 1, seed)[0]
    assert json.loads(out.read_text())["id"] == expected.id
