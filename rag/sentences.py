"""Sentences with their character offsets, for answers and for source passages.

A sentence ends at `.`, `!` or `?` followed by white space, or at a line break (table rows, list items and
headings are sentences of their own). Answer sentences keep their trailing `[n]` markers, which follow the
full stop in what small models write ("… in 2023. [2]"). Abbreviations are not special-cased: a split too
many costs a little precision in the support check, never a missed span.

Text extracted from a PDF page is wrapped: a line break there is usually only the end of a printed line.
With `wrapped=True`, a line break ends a sentence only after sentence punctuation, after a short line (a
heading or the last line of a paragraph: under `SHORT_LINE` of the longest line), or before a list item;
otherwise it joins the two lines with a space. This module only cuts text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A break: sentence punctuation then white space not followed by a [n] marker, a marker then white space
# and a capital ("… euro. [2] Next"), or one or more line breaks.
_BREAK = re.compile(r"(?<=[.!?])\s+(?!\[\d)|(?<=\])\s+(?=[A-Z])|\s*\n\s*")
_LINE_END = re.compile(r"[.!?:;]\W*$")
_LIST_ITEM = re.compile(r"\s*(?:[-*•–|]|\d+[.)])\s")
SHORT_LINE = 0.6


@dataclass(frozen=True)
class Span:
    """`text[start:end]` of the text it was cut from."""

    start: int
    end: int
    text: str


def sentence_spans(text: str, wrapped: bool = False) -> list[Span]:
    """The non-blank sentences of `text`, in order, with their offsets (see the module docstring)."""
    cut = _unwrapped(text) if wrapped else text  # same length as `text`, so offsets hold for both
    spans: list[Span] = []
    start = 0
    for found in [*_BREAK.finditer(cut), None]:
        end = found.start() if found else len(cut)
        piece = cut[start:end]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            spans.append(Span(start + lead, end, piece.strip()))
        start = found.end() if found else end
    return spans


def _unwrapped(text: str) -> str:
    """`text` with each line break that only wraps a printed line replaced by a space."""
    lines = text.split("\n")
    longest = max((len(line.strip()) for line in lines), default=0)
    joined = [lines[0]]
    for line, following in zip(lines, lines[1:], strict=False):
        wraps = bool(line.strip() and following.strip()) and not (
            _LINE_END.search(line.rstrip())
            or len(line.strip()) < SHORT_LINE * longest
            or _LIST_ITEM.match(following)
        )
        joined.append((" " if wraps else "\n") + following)
    return "".join(joined)
