"""The question-answering chain, composed from `langchain-core` runnables.

    question + history ─► trim history ─► condense (only if needed) ─► retrieve ─► fit sources to the
    context window ─► prompt (system, history, sources, question) ─► chat model ─► answer text, without
    a filler opening (`rag.openers`) ─► check each sentence's citations against the sources (`rag.support`)

Optionally the prompt shows only the sentences of the sources closest to the question (`rag.evidence`);
the sources listed and checked stay the whole passages. Without a chat model (`--llm extractive`) the
answer is the source sentence closest to the question, quoted with its `[n]`, and a follow-up is
condensed by joining it to the previous question.

When no sentence of the sources, read in its document (`Selected.grounding`), reaches `min_evidence` as
relevance to the question, the model is not called: the answer is the not-found reply, with the closest
passages as (uncited) sources. When the model replies "not found" (or only markers, "[1] [2]") although
a sentence reaches `strong_evidence`, that sentence is the answer (a small model refuses some questions
its sources answer word for word). An answer the sources support none of is withheld, and the not-found
reply stands in for it, when the closest sentence's strength is below `withhold_unsupported` and none of
its claims comes within reach of support (`withhold_support`: a near miss is more often a paraphrase the
check does not see than an answer from elsewhere).
`stream_answer` yields the sources first, then the answer's tokens, then the finished `Answer` with its
checked sentences and the source numbers it rests on, the standalone question it searched for, stage
timings and context-budget figures.
History is explicit input (a list of messages); the chain keeps no state between calls. This module does
not build models or stores, and does not save turns (see `rag.conversation`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import (
    Runnable,
    RunnableBranch,
    RunnableGenerator,
    RunnableLambda,
    RunnablePassthrough,
)

from rag.citations import cited_numbers, strip_references, strip_source_references
from rag.condense import CondenseMode, Query, build_condenser, plan_condense
from rag.evidence import Selected
from rag.history import trim_history
from rag.openers import strip_filler_opening
from rag.passages import Passage
from rag.prompts import (
    ANSWER_PROMPT,
    NOT_FOUND,
    TokenCounter,
    estimate_tokens,
    fit_sources,
    format_sources,
    source_budget,
)
from rag.retrieve import Retrieval
from rag.support import CheckedAnswer

_ANY_WORD = re.compile(r"[^\W_]+")

Retriever = Callable[[str], "list[Passage] | Retrieval"]
Checker = Callable[[str, list[Passage]], CheckedAnswer]
Selector = Callable[[str, list[Passage]], Selected]


@dataclass
class Answer:
    """A finished answer: text with `[n]` markers, the numbered sources, and how it was reached."""

    question: str
    text: str
    sources: list[Passage]
    cited: list[int]
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    query: Query | None = None
    budget: dict[str, int] = field(default_factory=dict)
    checked: CheckedAnswer | None = None
    weak_evidence: bool = False
    evidence_strength: float | None = None
    extracted: str = ""  # why the answer is a source sentence: "unsupported", "refused" ("": the model's)
    withheld: str = ""  # the model's answer, when the sources support none of it and "not found" stands in
    shown: list[Passage] = field(default_factory=list)  # the sources as the prompt showed them (evidence)
    evidence_grounding: float | None = None  # the strength with the sentences read in their documents

    @property
    def standalone(self) -> str:
        return self.query.text if self.query else self.question

    @property
    def not_found(self) -> bool:
        return self.text == NOT_FOUND

    @property
    def sentences(self) -> list[dict[str, Any]]:
        return [s.to_json() for s in self.checked.sentences] if self.checked else []

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "standalone_question": self.standalone,
            "condensed": bool(self.query and self.query.condensed),
            "condense_reason": self.query.reason if self.query else "",
            "answer": self.text,
            "not_found": self.not_found,
            "weak_evidence": self.weak_evidence,
            "evidence_strength": self.evidence_strength,
            "evidence_grounding": self.evidence_grounding,
            "extracted": self.extracted,
            "withheld": self.withheld,
            "sentences": self.sentences,
            "sources": [p.source_json(p.rank in self.cited) for p in self.sources],
            "cited": self.cited,
            "timings": self.timings,
            "budget": self.budget,
            "warnings": self.warnings,
        }


@dataclass(frozen=True)
class SourcesEvent:
    passages: list[Passage]
    query: Query | None = None


@dataclass(frozen=True)
class TokenEvent:
    text: str


@dataclass(frozen=True)
class DoneEvent:
    answer: Answer


Event = SourcesEvent | TokenEvent | DoneEvent


@dataclass(frozen=True)
class Budget:
    """The model's context window and how it is shared: answer tokens, history tokens, the rest sources."""

    n_ctx: int
    max_tokens: int
    history_tokens: int = 600
    count_tokens: TokenCounter = estimate_tokens

    @property
    def history_limit(self) -> int:
        return min(self.history_tokens, (self.n_ctx - self.max_tokens) // 4)

    def fit(self, retrieved: list[Passage], question: str, history: Sequence[BaseMessage]) -> list[Passage]:
        room = source_budget(self.n_ctx, self.max_tokens, question, history, self.count_tokens)
        return fit_sources(retrieved, room, self.count_tokens)


def build_chain(
    retriever: Retriever,
    llm: BaseChatModel | None,
    budget: Budget,
    condense: CondenseMode = "auto",
    checker: Checker | None = None,
    prompt: ChatPromptTemplate = ANSWER_PROMPT,
    evidence: Selector | None = None,
    min_evidence: float = 0.0,
    extractive_fallback: bool = False,
    strong_evidence: float = 0.0,
    withhold_unsupported: float = 0.0,
    withhold_support: float = 1.0,
) -> Runnable:
    """{"question", "history"?} in; `history` (trimmed), `query`, `retrieved`, `sources`, `answer` out.

    The retriever returns passages, or a `Retrieval` that can also flag weak evidence. `evidence` (e.g.
    `rag.evidence.select_evidence`) cuts the sources down to what the prompt shows and measures their
    strength; below `min_evidence` the answer is "not found" without calling the model. The checker (e.g.
    `rag.support.check_answer` with the collection's embeddings) checks the finished answer's citations;
    with `extractive_fallback`, an answer none of whose claims the sources support is replaced by the
    source sentence closest to the question (needs `evidence`); so is the model's own not-found reply
    when the closest sentence's strength is at least `strong_evidence` (0: never). Otherwise an answer
    the sources support none of is withheld and the reply is "not found" when the closest sentence's
    strength is below `withhold_unsupported` (0: never; needs `evidence`) and no claim's support score
    reaches `withhold_support` (1: whatever the scores).
    Without `llm` the answer quotes the closest source sentence (needs `evidence`).
    The answer streams; everything before it arrives whole, sources before the first token, and `checked`
    after the last token."""
    return (
        RunnablePassthrough.assign(
            history=lambda x: trim_history(x.get("history") or [], budget.history_limit, budget.count_tokens)
        )
        .assign(plan=lambda x: plan_condense(x["question"], x["history"], condense))
        .assign(
            query=RunnableBranch((lambda x: x["plan"].condensed, build_condenser(llm)), lambda x: x["plan"])
        )
        .assign(retrieved=lambda x: _search(retriever, x["query"]))
        .assign(sources=lambda x: budget.fit(x["retrieved"].passages, x["query"].text, x["history"]))
        .assign(evidence=lambda x: _select(evidence, x["query"].text, x["sources"]))
        .assign(
            answer=RunnableBranch(
                (partial(_nothing_to_answer_from, min_evidence=min_evidence), lambda _: NOT_FOUND),
                _generator(llm, prompt),
            )
        )
        .assign(
            checked=lambda x: _check(
                checker,
                x,
                _Unsupported(extractive_fallback, withhold_unsupported, withhold_support),
                strong_evidence,
            )
        )
    )


def _generator(llm: BaseChatModel | None, prompt: ChatPromptTemplate) -> Runnable:
    """The answer's tokens from the chat model, without a filler opening; without a model, the quote."""
    if llm is None:
        return RunnableLambda(lambda x: _quote(x["evidence"]))
    return (
        RunnableLambda(
            lambda x: {
                "sources": format_sources(x["evidence"].passages),
                "question": x["query"].text,
                "history": x["history"],
            }
        )
        | prompt
        | llm
        | StrOutputParser()
        | RunnableGenerator(strip_filler_opening)
    )


def _quote(evidence: Selected) -> str:
    """The source sentence closest to the question with its `[n]` (and no bracketed references of the
    document's own, which would read as citations), or the not-found reply."""
    if evidence.best is None:
        return NOT_FOUND
    number, sentence = evidence.best
    return f"{strip_source_references(sentence).strip()} [{number}]"


@dataclass(frozen=True)
class Checked:
    """The answer text as it stands after the check, the check itself (None: nothing was checked), why
    the text became a source sentence, if it did ("unsupported" or "refused"; "": it did not), and the
    model's answer when it was withheld for want of support."""

    text: str
    answer: CheckedAnswer | None = None
    ms: float = 0.0
    extracted: str = ""
    withheld: str = ""


@dataclass(frozen=True)
class _Unsupported:
    """What becomes of an answer the sources support none of: the closest source sentence (`extract`),
    else "not found" when the evidence is weaker than `withhold_below` and no claim's support score
    reaches `support_below`, else the answer with its claims marked unsupported."""

    extract: bool = False
    withhold_below: float = 0.0
    support_below: float = 1.0

    def withholds(self, evidence: Selected, checked: CheckedAnswer) -> bool:
        strength = evidence.strength
        weak = self.withhold_below > 0 and strength is not None and strength < self.withhold_below
        return weak and checked.closest < self.support_below


def _check(
    checker: Checker | None, state: dict[str, Any], unsupported: _Unsupported, strong_evidence: float
) -> Checked:
    """The answer with checked citations; a not-found reply, however the model phrased its end, as ours
    unless the evidence is at least `strong_evidence` (then the closest source sentence stands in for it);
    a reply of markers only ("[1] [2] [3]") the same, unless the extractive fallback takes it; an
    unsupported answer handled as `unsupported` says."""
    text, sources, evidence = state["answer"].strip(), state["sources"], state["evidence"]
    refused = text.startswith(NOT_FOUND.rstrip("."))
    if refused and not (checker and sources and _is_strong(evidence, strong_evidence)):
        return Checked(NOT_FOUND)
    if checker is None or not sources:
        return Checked(text)
    start = time.perf_counter()
    if refused:
        return _extract(checker, sources, evidence, start, "refused")
    checked = checker(text, sources)
    if not _unsupported(checked):
        return Checked(checked.text, checked, _ms_since(start))
    if unsupported.extract and evidence.best is not None:
        return _extract(checker, sources, evidence, start, "unsupported")
    if _says_nothing(text):
        strong = _is_strong(evidence, strong_evidence)
        return _extract(checker, sources, evidence, start, "refused") if strong else Checked(NOT_FOUND)
    if unsupported.withholds(evidence, checked):
        return Checked(NOT_FOUND, ms=_ms_since(start), withheld=checked.text)
    return Checked(checked.text, checked, _ms_since(start))


def _says_nothing(text: str) -> bool:
    """A reply with no words a reader could use: markers only ("[1] [2] [3]", "[1] Sources: [1] [2]").
    Any word of any script counts, and so does a number ("2012 [1]")."""
    words = _ANY_WORD.findall(strip_references(text).lower())
    return all(word in ("source", "sources") for word in words)


def _extract(checker: Checker, sources: list[Passage], evidence: Selected, start: float, why: str) -> Checked:
    """The closest source sentence as the answer, checked too (its span is highlighted)."""
    checked = checker(_quote(evidence), sources)  # evidence.best is set: `_is_strong` or the caller saw it
    return Checked(checked.text, checked, _ms_since(start), why)


def _is_strong(evidence: Selected, threshold: float) -> bool:
    """Whether the closest source sentence supports the question well enough to overrule a refusal."""
    strength = evidence.strength
    return threshold > 0 and evidence.best is not None and strength is not None and strength >= threshold


def _unsupported(checked: CheckedAnswer) -> bool:
    """The answer makes claims and the sources support none of them, or it says nothing (only "[2]")."""
    claims = [s for s in checked.sentences if s.claim]
    if _says_nothing(checked.text):
        return True
    return bool(claims) and not any(s.cited for s in claims)


def _select(evidence: Selector | None, question: str, sources: list[Passage]) -> Selected:
    """What the prompt shows of the sources (all of them without a selector)."""
    return evidence(question, sources) if evidence and sources else Selected(sources)


def _nothing_to_answer_from(state: dict[str, Any], min_evidence: float) -> bool:
    """No sources, or no retrieved sentence close enough to the question (a finer test than the retrieval's
    weak-evidence flag, which misses a table row that answers exactly; the flag is reported, not acted on)."""
    evidence = state["evidence"]
    grounding = evidence.strength if evidence.grounding is None else evidence.grounding
    return not state["sources"] or (grounding is not None and grounding < min_evidence)


def _ms_since(start: float) -> float:
    """Milliseconds since `start` (a `time.perf_counter()` reading), to one decimal."""
    return round((time.perf_counter() - start) * 1000, 1)


@dataclass(frozen=True)
class Retrieved:
    passages: list[Passage]
    ms: float
    weak: bool = False


def _search(retriever: Retriever, query: Query) -> Retrieved:
    """The passages for the query, timed, and whether the evidence is weak."""
    start = time.perf_counter()
    found = retriever(query.text)
    ms = _ms_since(start)
    if isinstance(found, Retrieval):
        return Retrieved(found.passages, ms, found.weak_evidence)
    return Retrieved(found, ms)


class _Run:
    """What one streamed run has seen so far."""

    def __init__(self, question: str, history: Sequence[BaseMessage]) -> None:
        self.start = time.perf_counter()
        self.question = question
        self.given_history = len(history)
        self.state: dict[str, Any] = {}
        self.timings: dict[str, float] = {}
        self.pieces: list[str] = []

    def elapsed_ms(self) -> float:
        return _ms_since(self.start)

    def see(self, chunk: dict[str, Any]) -> None:
        """Record the chunk's state and the stage timings it completes."""
        self.state.update({k: v for k, v in chunk.items() if k != "answer"})
        if "query" in chunk and chunk["query"].condensed:
            self.timings["condense_ms"] = chunk["query"].ms
        if "retrieved" in chunk:
            self.timings["retrieve_ms"] = chunk["retrieved"].ms
        if chunk.get("checked") and chunk["checked"].answer:
            self.timings["check_ms"] = chunk["checked"].ms
        if chunk.get("answer"):
            self.timings.setdefault("first_token_ms", self.elapsed_ms())
            self.pieces.append(chunk["answer"])

    def answer(self) -> Answer:
        sources: list[Passage] = self.state.get("sources", [])
        retrieved = self.state["retrieved"].passages if "retrieved" in self.state else []
        checked: Checked | None = self.state.get("checked")
        text = checked.text if checked else "".join(self.pieces).strip()
        budget = {
            "history_messages": len(self.state.get("history", [])),
            "history_messages_left_out": self.given_history - len(self.state.get("history", [])),
            "sources_retrieved": len(retrieved),
            "sources_left_out": len(retrieved) - len(sources),
        }
        query = self.state.get("query")
        warnings = _warnings(retrieved, sources, checked)
        return Answer(
            self.question,
            text,
            sources,
            checked.answer.cited if checked and checked.answer else cited_numbers(text, len(sources)),
            self.timings,
            warnings,
            query,
            budget,
            checked.answer if checked else None,
            "retrieved" in self.state and self.state["retrieved"].weak,
            self.state["evidence"].strength if "evidence" in self.state else None,
            checked.extracted if checked else "",
            checked.withheld if checked else "",
            self.state["evidence"].passages if "evidence" in self.state else sources,
            evidence_grounding=self.state["evidence"].grounding if "evidence" in self.state else None,
        )


def stream_answer(chain: Runnable, question: str, history: Sequence[BaseMessage] = ()) -> Iterator[Event]:
    """Run the chain: sources first, then tokens, then the finished answer."""
    run = _Run(question, history)
    for chunk in chain.stream({"question": question, "history": list(history)}):
        run.see(chunk)
        if "sources" in chunk:
            yield SourcesEvent(chunk["sources"], run.state["query"])
        if chunk.get("answer"):
            yield TokenEvent(chunk["answer"])
    run.timings["total_ms"] = run.elapsed_ms()
    yield DoneEvent(run.answer())


def ask(chain: Runnable, question: str, history: Sequence[BaseMessage] = ()) -> Answer:
    """The finished answer, without streaming to the caller."""
    *_, done = stream_answer(chain, question, history)
    assert isinstance(done, DoneEvent)
    return done.answer


_EXTRACTED = {
    "unsupported": "the sources did not support the model's answer: showing the closest source sentence",
    "refused": "the model found no answer, but a source sentence matches the question closely: showing it",
}


def _warnings(retrieved: list[Passage], sources: list[Passage], checked: Checked | None) -> list[str]:
    notes = []
    if dropped := len(retrieved) - len(sources):
        notes.append(
            f"{dropped} lower-ranked source(s) left out to fit the model's context window (llm.n_ctx)"
        )
    if checked and checked.extracted:
        notes.append(_EXTRACTED[checked.extracted])
    if checked and checked.withheld:
        notes.append("the model's answer was withheld: the sources support none of it")
    return notes
