"""Citations in an answer: read the `[n]` markers, and attribute uncited sentences to the source that
states them.

Small local models often answer correctly but forget the markers. A sentence without a marker gets the
source whose words cover most of the sentence's content words, when that coverage is high enough; a
sentence no source supports stays uncited (an honest signal, not hidden). This module does not judge
whether an existing marker is right; checked citations come with the answer-quality work.
"""

from __future__ import annotations

import re

from rag.passages import Passage

_MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
# Sentence ends: punctuation then space (unless a [n] marker follows it), or a line break.
_SENTENCE_BREAK = re.compile(r"((?<=[.!?])\s+(?!\[\d)|\n+)")
_WORD = re.compile(r"[a-z0-9]+(?:[.,][0-9]+)*")
_STOPWORDS = frozenset(
    "a an and are as at be by can do does for from has have how i if in is it its of on or that the their "
    "then there these this to was were what when where which who why will with you your based information "
    "provided sources source according".split()
)
# Share of a sentence's content words that a source must contain to be credited with it.
MIN_COVERAGE = 0.6


def content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS}


def strip_markers(text: str) -> str:
    """The text without its `[n]` markers (for history, where old source numbers mean nothing)."""
    return " ".join(re.sub(rf"\s*{_MARKER.pattern}", "", text).split())


def cited_numbers(text: str, valid: int) -> list[int]:
    """Source numbers cited in `text` as [n] or [n, m], in order of first use, within 1..valid."""
    seen: list[int] = []
    for group in _MARKER.findall(text):
        for number in (int(n) for n in group.split(",")):
            if 1 <= number <= valid and number not in seen:
                seen.append(number)
    return seen


def best_support(sentence: str, sources: list[Passage]) -> int | None:
    """The rank of the source covering most of the sentence's content words, if it covers enough."""
    words = content_words(_MARKER.sub("", sentence))
    if len(words) < 2:
        return None
    coverage = {p.rank: len(words & content_words(p.text)) / len(words) for p in sources}
    rank = max(coverage, key=lambda r: (coverage[r], -r), default=None)
    return rank if rank is not None and coverage[rank] >= MIN_COVERAGE else None


def attribute_citations(text: str, sources: list[Passage]) -> str:
    """The answer with a `[n]` added to each uncited sentence that one source clearly supports."""
    pieces = _SENTENCE_BREAK.split(text)  # sentence, break, sentence, break, ...
    for i in range(0, len(pieces), 2):
        sentence = pieces[i].rstrip()
        rank = None if _MARKER.search(sentence) else best_support(sentence, sources)
        pieces[i] = f"{sentence} [{rank}]" if rank else pieces[i]
    return "".join(pieces)
