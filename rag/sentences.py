"""Sentences with their character offsets, for answers and for source passages.

A sentence ends at `.`, `!` or `?` followed by white space, or at a line break (table rows, list items and
headings are sentences of their own). Answer sentences keep their trailing `[n]` markers, which follow the
full stop in what small models write ("… in 2023. [2]"). Abbreviations are not special-cased: a split too
many costs a little precision in the support check, never a missed span. This module only cuts text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A break: sentence punctuation then white space not followed by a [n] marker, a marker then white space
# and a capital ("… euro. [2] Next"), or one or more line breaks.
_BREAK = re.compile(r"(?<=[.!?])\s+(?!\[\d)|(?<=\])\s+(?=[A-Z])|\s*\n\s*")


@dataclass(frozen=True)
class Span:
    """`text[start:end]` of the text it was cut from."""

    start: int
    end: int
    text: str


def sentence_spans(text: str) -> list[Span]:
    """The non-blank sentences of `text`, in order, with their offsets."""
    spans: list[Span] = []
    start = 0
    for found in [*_BREAK.finditer(text), None]:
        end = found.start() if found else len(text)
        piece = text[start:end]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            spans.append(Span(start + lead, end, piece.strip()))
        start = found.end() if found else end
    return spans
