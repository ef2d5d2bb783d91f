"""A deterministic extractive chat model, shipped for tests and offline demos (`--llm fake`).

It reads the fenced sources and the question from the prompt, picks the source sentence that shares the
most words with the question, and answers with it and its citation. It has no knowledge of its own and
never calls anything. It is not a language model: don't use it to judge answer quality.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGenerationChunk

from rag.citations import content_words
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
        for piece in re.findall(r"\S+\s*", extractive_answer(str(messages[-1].content))):
            yield self.token_chunk(piece, run_manager)
