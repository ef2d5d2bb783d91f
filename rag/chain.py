"""The question-answering chain, composed from `langchain-core` runnables.

    question + history ─► trim history ─► condense (only if needed) ─► retrieve ─► fit sources to the
    context window ─► prompt (system, history, sources, question) ─► chat model ─► answer text

`stream_answer` yields the sources first, then the answer's tokens, then the finished `Answer` with its
cited source numbers, the standalone question it searched for, stage timings and context-budget figures.
History is explicit input (a list of messages); the chain keeps no state between calls. This module does
not build models or stores, and does not save turns (see `rag.conversation`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import Runnable, RunnableBranch, RunnableLambda, RunnablePassthrough

from rag.citations import attribute_citations, cited_numbers
from rag.condense import CondenseMode, Query, build_condenser, plan_condense
from rag.history import trim_history
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

    @property
    def standalone(self) -> str:
        return self.query.text if self.query else self.question

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "standalone_question": self.standalone,
            "condensed": bool(self.query and self.query.condensed),
            "condense_reason": self.query.reason if self.query else "",
            "answer": self.text,
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
    retriever: Callable[[str], list[Passage]],
    llm: BaseChatModel,
    budget: Budget,
    condense: CondenseMode = "auto",
) -> Runnable:
    """{"question", "history"?} in; `history` (trimmed), `query`, `retrieved`, `sources`, `answer` out.

    The answer streams; everything before it arrives whole, sources before the first token."""
    generate = (
        RunnableLambda(
            lambda x: {
                "sources": format_sources(x["sources"]),
                "question": x["query"].text,
                "history": x["history"],
            }
        )
        | ANSWER_PROMPT
        | llm
        | StrOutputParser()
    )
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
        .assign(answer=RunnableBranch((lambda x: not x["sources"], lambda _: NOT_FOUND), generate))
    )


@dataclass(frozen=True)
class Retrieved:
    passages: list[Passage]
    ms: float


def _search(retriever: Callable[[str], list[Passage]], query: Query) -> Retrieved:
    """The passages for the query, timed."""
    start = time.perf_counter()
    passages = retriever(query.text)
    return Retrieved(passages, round((time.perf_counter() - start) * 1000, 1))


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
        return round((time.perf_counter() - self.start) * 1000, 1)

    def see(self, chunk: dict[str, Any]) -> None:
        """Record the chunk's state and the stage timings it completes."""
        self.state.update({k: v for k, v in chunk.items() if k != "answer"})
        if "query" in chunk and chunk["query"].condensed:
            self.timings["condense_ms"] = chunk["query"].ms
        if "retrieved" in chunk:
            self.timings["retrieve_ms"] = chunk["retrieved"].ms
        if chunk.get("answer"):
            self.timings.setdefault("first_token_ms", self.elapsed_ms())
            self.pieces.append(chunk["answer"])

    def answer(self) -> Answer:
        sources: list[Passage] = self.state.get("sources", [])
        retrieved = self.state["retrieved"].passages if "retrieved" in self.state else []
        text = _final_text("".join(self.pieces).strip(), sources)
        budget = {
            "history_messages": len(self.state.get("history", [])),
            "history_messages_left_out": self.given_history - len(self.state.get("history", [])),
            "sources_retrieved": len(retrieved),
            "sources_left_out": len(retrieved) - len(sources),
        }
        query = self.state.get("query")
        warnings = _warnings(retrieved, sources)
        return Answer(
            self.question,
            text,
            sources,
            cited_numbers(text, len(sources)),
            self.timings,
            warnings,
            query,
            budget,
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


def _final_text(streamed: str, sources: list[Passage]) -> str:
    """The streamed answer, with uncited sentences attributed to the source that supports them."""
    if not sources or streamed == NOT_FOUND:
        return streamed
    return attribute_citations(streamed, sources)


def _warnings(retrieved: list[Passage], sources: list[Passage]) -> list[str]:
    dropped = len(retrieved) - len(sources)
    if dropped:
        return [f"{dropped} lower-ranked source(s) left out to fit the model's context window (llm.n_ctx)"]
    return []
