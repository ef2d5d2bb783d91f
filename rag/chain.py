"""The question-answering chain, composed from `langchain-core` runnables.

    question ─► retrieve ─► fit sources to the context window ─► prompt ─► chat model ─► answer text

`stream_answer` yields the sources first, then the answer's tokens, then the finished `Answer` with its
cited source numbers and stage timings. The chain holds no hidden state: no memory, no history (the
conversation issue adds history as explicit data). This module does not build models or stores.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import Runnable, RunnableBranch, RunnableLambda, RunnablePassthrough

from rag.citations import attribute_citations, cited_numbers
from rag.passages import Passage
from rag.prompts import ANSWER_PROMPT, NOT_FOUND, fit_sources, format_sources


@dataclass
class Answer:
    """A finished answer: text with `[n]` markers, the numbered sources, and how long each stage took."""

    question: str
    text: str
    sources: list[Passage]
    cited: list[int]
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.text,
            "sources": [p.source_json(p.rank in self.cited) for p in self.sources],
            "cited": self.cited,
            "timings": self.timings,
            "warnings": self.warnings,
        }


@dataclass(frozen=True)
class SourcesEvent:
    passages: list[Passage]


@dataclass(frozen=True)
class TokenEvent:
    text: str


@dataclass(frozen=True)
class DoneEvent:
    answer: Answer


Event = SourcesEvent | TokenEvent | DoneEvent


def build_chain(
    retriever: Callable[[str], list[Passage]], llm: BaseChatModel, n_ctx: int, max_tokens: int
) -> Runnable:
    """question dict in; `retrieved`, `sources` and streamed `answer` out."""
    generate = (
        RunnableLambda(lambda x: {"sources": format_sources(x["sources"]), "question": x["question"]})
        | ANSWER_PROMPT
        | llm
        | StrOutputParser()
    )
    no_sources = RunnableLambda(lambda _: NOT_FOUND)
    return (
        RunnablePassthrough.assign(retrieved=itemgetter("question") | RunnableLambda(retriever))
        .assign(
            sources=RunnableLambda(lambda x: fit_sources(x["retrieved"], x["question"], n_ctx, max_tokens))
        )
        .assign(answer=RunnableBranch((lambda x: not x["sources"], no_sources), generate))
    )


def stream_answer(chain: Runnable, question: str) -> Iterator[Event]:
    """Run the chain: sources first, then tokens, then the finished answer."""
    start = time.perf_counter()
    timings: dict[str, float] = {}
    sources: list[Passage] = []
    retrieved: list[Passage] = []
    pieces: list[str] = []
    for chunk in chain.stream({"question": question}):
        retrieved = chunk.get("retrieved", retrieved)
        if "sources" in chunk:
            sources = chunk["sources"]
            timings["retrieve_ms"] = _ms_since(start)
            yield SourcesEvent(sources)
        if chunk.get("answer"):
            timings.setdefault("first_token_ms", _ms_since(start))
            pieces.append(chunk["answer"])
            yield TokenEvent(chunk["answer"])
    timings["total_ms"] = _ms_since(start)
    text = _final_text("".join(pieces).strip(), sources)
    cited = cited_numbers(text, len(sources))
    yield DoneEvent(Answer(question, text, sources, cited, timings, _warnings(retrieved, sources)))


def ask(chain: Runnable, question: str) -> Answer:
    """The finished answer, without streaming to the caller."""
    *_, done = stream_answer(chain, question)
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


def _ms_since(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 1)
