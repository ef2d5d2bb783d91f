"""Conversation history as explicit data: earlier turns become chat messages, trimmed to a token budget.

The caller always passes history in; no chain keeps a memory of its own. Old answers lose their `[n]`
markers (those numbers pointed at the sources of another turn). This module does not store turns (see
`rag.memory`) and does not decide whether a question needs rewriting (see `rag.condense`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, trim_messages

from rag.citations import strip_markers
from rag.prompts import TokenCounter, estimate_tokens, history_tokens


def history_messages(turns: Iterable[tuple[str, str]]) -> list[BaseMessage]:
    """(question, answer) pairs as alternating human and AI messages."""
    messages: list[BaseMessage] = []
    for question, answer in turns:
        messages += [HumanMessage(question), AIMessage(strip_markers(answer))]
    return messages


def trim_history(
    history: Sequence[BaseMessage], max_tokens: int, count_tokens: TokenCounter = estimate_tokens
) -> list[BaseMessage]:
    """The most recent whole turns that fit in `max_tokens`, starting on a question."""
    if max_tokens <= 0 or not history:
        return []
    return trim_messages(
        list(history),
        max_tokens=max_tokens,
        token_counter=lambda messages: history_tokens(messages, count_tokens),
        strategy="last",
        start_on="human",
        allow_partial=False,
    )
