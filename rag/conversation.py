"""A conversation in progress: the answer chain, a stored session, and the history between them.

Each question is answered with the session's earlier turns as history (explicit messages, trimmed by the
chain), and the finished turn is saved to the conversation store. This module does not print anything
and does not build the chain or the store (see `rag.components`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from langchain_core.messages import BaseMessage
from langchain_core.runnables import Runnable

from rag.chain import Answer, DoneEvent, Event, stream_answer
from rag.history import history_messages
from rag.memory import ConversationStore, Session, Turn


def turn_from_answer(answer: Answer) -> Turn:
    return Turn(
        question=answer.question,
        standalone=answer.standalone,
        answer=answer.text,
        sources=[p.source_json(p.rank in answer.cited) for p in answer.sources],
        cited=answer.cited,
        timings=answer.timings,
        sentences=answer.sentences,
    )


def condense_counts(turns: list[Turn]) -> dict[str, int]:
    """Of the follow-up questions, how many needed the extra rewrite call and how many skipped it."""
    follow_ups = turns[1:]
    condensed = sum(1 for t in follow_ups if "condense_ms" in t.timings)
    return {
        "follow_ups": len(follow_ups),
        "condensed": condensed,
        "condense_skipped": len(follow_ups) - condensed,
    }


class Conversation:
    """Questions answered in the context of one stored session."""

    def __init__(self, chain: Runnable, memory: ConversationStore, session: Session) -> None:
        self.chain = chain
        self.memory = memory
        self.session = session

    @property
    def history(self) -> list[BaseMessage]:
        return history_messages((t.question, t.answer) for t in self.session.turns)

    def stream(self, question: str) -> Iterator[Event]:
        """Stream like `stream_answer`; the finished turn is saved before `DoneEvent` is yielded."""
        for event in stream_answer(self.chain, question, self.history):
            if isinstance(event, DoneEvent):
                self.memory.add_turn(self.session, turn_from_answer(event.answer))
            yield event

    def ask(self, question: str) -> Answer:
        *_, done = self.stream(question)
        assert isinstance(done, DoneEvent)
        return done.answer

    def to_json(self, answer: Answer) -> dict[str, Any]:
        return {"session": self.session.id, **answer.to_json()}
