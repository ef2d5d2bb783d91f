"""A deterministic extractive chat model, shipped for tests and offline demos (`--llm fake`).

It reads the fenced sources and the question from the prompt, picks the source sentence that shares the
most words with the question, and answers with it and its citation. Asked to rewrite a follow-up (the
condense prompt), it puts the previous question's subject in place of the first referring word. It has no
knowledge of its own and never calls anything. It is not a language model: don't use it to judge quality.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGenerationChunk

from rag.citations import content_words
from rag.condense import REFERRING_WORDS
from rag.llms.base import StreamingChatModel
from rag.prompts import NOT_FOUND

_SOURCE = re.compile(r'<source id="(\d+)">\n(.*?)\n</source>', re.DOTALL)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def _sentences(text: str) -> list[str]:
    """Sentences, with line breaks as hard boundaries (table rows, list items)."""
    return [s for line in text.splitlines() for s in _SENTENCE_END.split(" ".join(line.split())) if s]


def extractive_answer(prompt: str) -> str:
    """The best-matching source sentence with its `[n]`, or the not-found reply."""
    question = prompt.rsplit("Question:", 1)[-1].split("\n\n", 1)[0]
    wanted = content_words(question)
    best, best_score = "", 0
    for number, text in _SOURCE.findall(prompt):
        for sentence in _sentences(text):
            score = len(wanted & content_words(sentence))
            if score > best_score:
                best, best_score = f"{sentence.strip()} [{number}]", score
    return best or NOT_FOUND


def fake_rewrite(prompt: str) -> str:
    """The follow-up with the previous user question's content words in place of its first referring word."""
    conversation, _, last = prompt.rpartition("Last question:")
    question = last.split("Rewritten question:")[0].strip()
    previous = [ln[len("User:") :] for ln in conversation.splitlines() if ln.startswith("User:")]
    known = content_words(question)
    last_user = previous[-1].lower() if previous else ""
    subject = [w for w in re.findall(r"[\w-]+", last_user) if w in content_words(w) and w not in known]
    topic = "the " + " ".join(subject) if subject else ""
    words = question.split()
    at = next((i for i, w in enumerate(words) if w.lower().strip("?,.") in REFERRING_WORDS), None)
    if at is None:
        return f"{question.rstrip('?')} ({topic})?" if topic else question
    words[at] = topic + ("?" if words[at].endswith("?") else "")
    return " ".join(words)


class FakeChatModel(StreamingChatModel):
    """Extractive, deterministic, instant; streams word by word."""

    @property
    def _llm_type(self) -> str:
        return "askdocs-fake"

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        prompt = str(messages[-1].content)
        reply = (
            fake_rewrite(prompt)
            if prompt.rstrip().endswith("Rewritten question:")
            else extractive_answer(prompt)
        )
        for piece in re.findall(r"\S+\s*", reply):
            yield self.token_chunk(piece, run_manager)
