"""Follow-up questions rewritten into standalone questions, with one extra model call only when needed.

    "How long is the warranty?" … "and what does it not cover?"  ─►  "What does the warranty not cover?"

`plan_condense` is a cheap rule check (no model): with no history, or a question that names its own
subject, the question is used as it is and the extra call is skipped. Otherwise `build_condenser` asks the
chat model for a one-line rewrite and checks it; an unusable rewrite (or no model at all) falls back to
the previous question joined with the follow-up. A rewrite that repeats the question is kept: on the
follow-up benchmark the joined fallback retrieved no better than the bare question. This module does not
retrieve.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda

from rag.citations import content_words
from rag.prompts import CONDENSE_PROMPT, format_conversation

CondenseMode = Literal["auto", "always", "never"]

# Words that point back into the conversation, and openings that continue it.
REFERRING_WORDS = frozenset(
    "it its it's they them their theirs this that these those he him his she her hers "
    "former latter one ones same such above previous earlier".split()
)
FOLLOW_UP_OPENINGS = ("and", "but", "also", "or", "so", "what about", "how about", "what else", "same for")
MIN_CONTENT_WORDS = 2  # fewer than this ("How often?", "Why?") cannot stand alone
# A pronoun after this many content words, in a question this long, most likely points inside it
# ("... reported by NVIDIA in its latest 10-Q"), not back at the conversation.
OWN_SUBJECT_WORDS, LONG_QUESTION_WORDS = 3, 6
_WORD = re.compile(r"[a-z']+")
_LABEL = re.compile(r"^\s*(rewritten|standalone)?\s*question\s*:\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Query:
    """What retrieval searches for: the question as asked, or its standalone rewrite, and why."""

    text: str
    condensed: bool
    reason: str
    ms: float = 0.0  # time the rewrite took


def plan_condense(question: str, history: Sequence[BaseMessage], mode: CondenseMode = "auto") -> Query:
    """Whether the question needs rewriting (`condensed=True`) before retrieval, and the reason."""
    if mode == "never" or not history:
        return Query(question, False, "condense off" if mode == "never" else "no history")
    if mode == "always":
        return Query(question, True, "condense always")
    words = _WORD.findall(question.lower())
    referring = _referring_word(words, len(content_words(question)))
    if referring:
        return Query(question, True, f"refers back ('{referring}')")
    opening = " ".join(words[:2])
    cue = next((c for c in FOLLOW_UP_OPENINGS if opening == c or opening.startswith(f"{c} ")), None)
    if cue:
        return Query(question, True, f"continues the conversation ('{cue}')")
    if len(content_words(question)) < MIN_CONTENT_WORDS:
        return Query(question, True, "too short to stand alone")
    return Query(question, False, "self-contained")


def _referring_word(words: list[str], content_count: int) -> str | None:
    """The first word that points back at the conversation rather than inside the question."""
    for position, word in enumerate(words):
        if word in REFERRING_WORDS:
            before = len(content_words(" ".join(words[:position])))
            inside = before >= OWN_SUBJECT_WORDS and content_count >= LONG_QUESTION_WORDS
            return None if inside else word
    return None


def clean_rewrite(raw: str, question: str, history: Sequence[BaseMessage]) -> str:
    """The model's rewrite as one question, or a fallback that keeps the topic when it is unusable."""
    line = next((ln for ln in raw.splitlines() if ln.strip()), "")
    line = _LABEL.sub("", line).strip().strip("\"'*` ").strip()
    answered = question.rstrip().endswith("?") and not line.endswith("?")
    if not line or answered or len(line) > max(300, 4 * len(question)):
        return fallback_rewrite(question, history)
    return line


def fallback_rewrite(question: str, history: Sequence[BaseMessage]) -> str:
    """The previous question followed by the follow-up: crude, but retrieval keeps the topic."""
    previous = next((str(m.content) for m in reversed(history) if m.type == "human"), "")
    return f"{previous} {question}".strip()


def build_condenser(llm: BaseChatModel | None) -> Runnable:
    """{"question", "history", "plan": Query} in; the plan with its text rewritten (and timed) out.
    Without a model (`--llm extractive`) the rewrite is the fallback: the previous question joined
    with the follow-up."""
    if llm is None:
        return RunnableLambda(
            lambda x: replace(x["plan"], text=fallback_rewrite(x["question"], x["history"]))
        )
    rewrite = (
        RunnableLambda(
            lambda x: {"conversation": format_conversation(x["history"]), "question": x["question"]}
        )
        | CONDENSE_PROMPT
        | llm.bind(stop=["\n"])
        | StrOutputParser()
    )

    def condense(x: dict[str, Any], config: RunnableConfig) -> Query:
        start = time.perf_counter()
        text = clean_rewrite(rewrite.invoke(x, config), x["question"], x["history"])
        return replace(x["plan"], text=text, ms=round((time.perf_counter() - start) * 1000, 1))

    return RunnableLambda(condense)
