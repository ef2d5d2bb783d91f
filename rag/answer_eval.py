"""Answer evaluation: generate answers to a question set's questions and score them against the gold answers.

Runs the real answer chain (retrieval, prompt, model, citation check) over the dataset's own collection
(`rag.evaluate.eval_collection`) on a fixed sample of the unflagged questions (seeded, so two settings
files are compared on the same questions), and reports:

- answer quality: token F1 (SQuAD normalisation: lower case, no punctuation or articles) and containment
  (the normalised gold answer occurs in the answer), the best over the gold answers, on every question;
- citations: `citation_precision_model` (the model's own `[n]` markers on claims that the support check
  keeps), `citation_precision_gold` (checked markers of answers that contain the gold answer pointing to a
  passage that contains it too), `citation_precision_stating` (the same for the markers of the sentences
  that state the gold answer: the ones gold passages can judge, since another sentence of the answer may
  rightly cite another passage), `citation_recall` (claim sentences left with a supporting citation),
  `cited_gold_file` (answers whose cited files include a gold file);
- where a miss comes from: `gold_in_sources` (the gold answer is in one of the sources: retrieval found
  it), `gold_in_prompt` (it is in what the prompt showed the model: the evidence sentences kept it), and
  `containment_given_prompt` (answers containing it, of those whose prompt held it: the model's own part);
- refusals: `refused_answerable` (not-found replies when the answer is in the collection) and
  `refused_absent` (not-found replies when the questions' gold files are left out of the search), and
  the shares of answers that are a source sentence instead of the model's (`extracted_*`: an unsupported
  answer or a refusal overruled by strong evidence, see `rag.chain`) and of the model's answers withheld
  because the sources support none of them (`withheld_*`, counted among the refusals too);
- time to first token and total time, p50/p95.

`records` keeps every question's answer and scores for inspection. This module does not tune anything.
"""

from __future__ import annotations

import random
import re
import string
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rag.chain import Answer, ask
from rag.citations import strip_markers
from rag.components import answer_chain
from rag.evaluate import Question, eval_collection, load_questions, mean, percentile, relative_name
from rag.llms import LoadedModel
from rag.settings import Settings
from rag.store import Store

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)
GOLD_PREFIX = 60  # a passage "contains" a long gold answer when it holds its first characters


def normalise_answer(text: str) -> str:
    return " ".join(_ARTICLES.sub(" ", text.lower().translate(_PUNCTUATION)).split())


def token_f1(prediction: str, gold: str) -> float:
    predicted, wanted = normalise_answer(prediction).split(), normalise_answer(gold).split()
    same = sum((Counter(predicted) & Counter(wanted)).values())
    if not same:
        return 0.0
    precision, recall = same / len(predicted), same / len(wanted)
    return 2 * precision * recall / (precision + recall)


def contains(text: str, gold: str) -> bool:
    wanted = normalise_answer(gold)
    return bool(wanted) and wanted in normalise_answer(text)


def best_f1(text: str, question: Question) -> float:
    """Token F1 of `text` against the closest of the question's gold answers."""
    return max(token_f1(text, gold) for gold in question.answers)


def contains_gold(text: str, question: Question) -> bool:
    """Whether `text` contains one of the question's gold answers whole."""
    return any(contains(text, gold) for gold in question.answers)


def sample_questions(questions: list[Question], limit: int | None, seed: int = 0) -> list[Question]:
    """The unflagged questions with a gold answer, shuffled with `seed`, the first `limit` of them."""
    usable = [q for q in questions if q.answers and not q.flagged]
    random.Random(seed).shuffle(usable)
    return usable[:limit] if limit else usable


def run_answer_eval(
    settings: Settings,
    dataset: Path,
    model: LoadedModel,
    limit: int | None = 40,
    absent: int = 20,
    seed: int = 0,
    progress: bool = False,
) -> dict[str, Any]:
    """Answer `limit` sampled questions with all documents, then `absent` of them without their gold files."""
    questions = sample_questions(load_questions(dataset), limit, seed)
    docs = dataset / "docs"
    with eval_collection(settings, dataset, progress=progress) as (store, facts):
        answerable = _answer_all(settings, store, model, questions, docs, None, progress)
        held_out = questions[:absent]
        absent_records = [_answer_without_gold(settings, store, model, q, docs) for q in held_out]
    summary = _summary(answerable, absent_records)
    return {
        "dataset": facts["dataset"],
        "llm": settings.llm.spec,
        "prompt": settings.answers.prompt,
        **summary,
        "records": answerable + absent_records,
    }


def _answer_all(
    settings: Settings,
    store: Store,
    model: LoadedModel,
    questions: list[Question],
    docs: Path,
    paths: list[str] | None,
    progress: bool,
) -> list[dict[str, Any]]:
    chain = answer_chain(settings, store, model, paths=paths)
    records = []
    for number, question in enumerate(questions, 1):
        records.append(score_answer(ask(chain, question.text), question, docs))
        if progress:
            print(f"  answered {number}/{len(questions)}", flush=True)
    return records


def _answer_without_gold(
    settings: Settings, store: Store, model: LoadedModel, question: Question, docs: Path
) -> dict[str, Any]:
    """The question asked with its gold files left out of the search: the answer is absent."""
    others = [p for p in store.lexical.paths() if relative_name(Path(p), docs) not in question.gold_files]
    chain = answer_chain(settings, store, model, paths=others)
    return {**score_answer(ask(chain, question.text), question, docs), "absent": True}


def score_answer(answer: Answer, question: Question, docs: Path) -> dict[str, Any]:
    """One answer's scores (see the module docstring)."""
    text = strip_markers(answer.text)
    contained = contains_gold(text, question)
    cited_files = {relative_name(Path(p.path), docs) for p in answer.sources if p.rank in answer.cited}
    return {
        "id": question.id,
        "question": question.text,
        "answer": answer.text,
        "gold": question.answers[0],
        "f1": best_f1(text, question),
        "contained": float(contained),
        "refused": float(answer.not_found),
        "weak_evidence": float(answer.weak_evidence),
        "evidence_strength": answer.evidence_strength,
        "evidence_grounding": answer.evidence_grounding,
        "extracted": answer.extracted,
        "withheld": float(bool(answer.withheld)),
        "cited_gold_file": float(bool(cited_files & question.gold_files)),
        "gold_in_sources": float(any(holds_gold(p.text, question) for p in answer.sources)),
        "gold_in_prompt": float(any(holds_gold(p.text, question) for p in answer.shown)),
        **_citation_counts(answer, question, contained),
        "first_token_ms": answer.timings.get("first_token_ms"),
        "total_ms": answer.timings.get("total_ms"),
        "absent": False,
    }


def _citation_counts(answer: Answer, question: Question, contained: bool) -> dict[str, int]:
    claims = [s for s in answer.checked.sentences if s.claim] if answer.checked else []
    model_markers = [(s, n) for s in claims for n in s.model_cited]
    checked_markers = [n for s in claims for n in s.cited] if contained else []
    stating = [n for s in claims if contains_gold(s.text, question) for n in s.cited]
    return {
        "claims": len(claims),
        "claims_cited": sum(1 for s in claims if s.cited),
        "model_markers": len(model_markers),
        "model_markers_kept": sum(1 for s, n in model_markers if n in s.cited),
        "gold_markers": len(checked_markers),
        "gold_markers_right": sum(holds_gold(answer.sources[n - 1].text, question) for n in checked_markers),
        "stating_markers": len(stating),
        "stating_markers_right": sum(holds_gold(answer.sources[n - 1].text, question) for n in stating),
    }


def holds_gold(text: str, question: Question) -> bool:
    """Whether `text` holds a gold answer (a long one: its first `GOLD_PREFIX` normalised characters)."""
    normalised = normalise_answer(text)
    wanted = [normalise_answer(gold)[:GOLD_PREFIX] for gold in question.answers]
    return any(w and w in normalised for w in wanted)


def _summary(answerable: list[dict[str, Any]], absent: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "questions": len(answerable),
        "f1": mean(r["f1"] for r in answerable),
        "containment": mean(r["contained"] for r in answerable),
        "citation_precision_model": _ratio(answerable, "model_markers_kept", "model_markers"),
        "citation_precision_gold": _ratio(answerable, "gold_markers_right", "gold_markers"),
        "citation_precision_stating": _ratio(answerable, "stating_markers_right", "stating_markers"),
        "citation_recall": _ratio(answerable, "claims_cited", "claims"),
        "cited_gold_file": mean(r["cited_gold_file"] for r in answerable if not r["refused"]),
        "gold_in_sources": mean(r["gold_in_sources"] for r in answerable),
        "gold_in_prompt": mean(r["gold_in_prompt"] for r in answerable),
        "containment_given_prompt": mean(r["contained"] for r in answerable if r["gold_in_prompt"]),
        "refused_answerable": mean(r["refused"] for r in answerable),
        "absent_questions": len(absent),
        "refused_absent": mean(r["refused"] for r in absent) if absent else None,
        "extracted_answerable": mean(bool(r["extracted"]) for r in answerable),
        "extracted_absent": mean(bool(r["extracted"]) for r in absent) if absent else None,
        "withheld_answerable": mean(r["withheld"] for r in answerable),
        "withheld_absent": mean(r["withheld"] for r in absent) if absent else None,
        "first_token_ms_p50": _timing(answerable, "first_token_ms", 0.50),
        "first_token_ms_p95": _timing(answerable, "first_token_ms", 0.95),
        "total_ms_p50": _timing(answerable, "total_ms", 0.50),
        "total_ms_p95": _timing(answerable, "total_ms", 0.95),
    }


def _ratio(records: Iterable[dict[str, Any]], part: str, whole: str) -> float | None:
    records = list(records)
    total = sum(r[whole] for r in records)
    return round(sum(r[part] for r in records) / total, 3) if total else None


def _timing(records: list[dict[str, Any]], key: str, fraction: float) -> float | None:
    values = [r[key] for r in records if r[key] is not None]
    return percentile(values, fraction) if values else None
