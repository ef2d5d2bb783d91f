"""Citation markers in an answer: read the `[n]` numbers, strip them, and the content words of a text
(what the support check and the sources view compare). A document's own numbered references ("... in
2020 [26] that ...", "[5-7]") look like markers; `strip_references` removes both kinds, so that neither
counts as a number a text states. `strip_source_references` is the narrower rule for a source shown to a
reader or the model: it keeps code and maths ("penguin[1] < 8", "x = [0, 1]", "k ∈ [3, 16]").

In every rule, a bracketed number joined to the word after it ("P[4]-type", "x[0]y") and anything inside
Markdown code (`` `arr[1]` ``, fenced blocks) is part of the text, never a marker or a reference.

This module does not judge whether a marker is right; `rag.support` checks each sentence against the
sources.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_GLUED = r"(?![\w\-–])"  # "P[4]-type": the bracket is part of a name
_MARKER = re.compile(rf"\[(\d+(?:\s*,\s*\d+)*)\]{_GLUED}")
_LEADING_MARKERS = re.compile(rf"(?:\s*{_MARKER.pattern}[\s.]*)+")  # "[2] Parts too." after "... years."
# [3], [3, 4], [5-7]: a marker or a reference
_REFERENCE = re.compile(rf"\s*\[\d+(?:\s*[-–,]\s*\d+)*\]{_GLUED}")
_CODE = re.compile(r"```.*?(?:```|$)|`[^`\n]+`", re.DOTALL)  # a fenced block (maybe still open), inline code
# A document's own reference: after prose and a space, numbered from 1, not a Markdown link label "[1]:".
_SOURCE_REFERENCE = re.compile(
    rf"(?<=[\w.,;)\]'\"%”’])\s+\[[1-9]\d*(?:\s*[-–,]\s*[1-9]\d*)*\]{_GLUED}(?!:)(?:\s+(?=[.,;:]))?"
)  # and the space it leaves before a full stop or comma: "literature [46] ." -> "literature."
_WORD = re.compile(r"[a-z0-9]+(?:[.,][0-9]+)*")
_STOPWORDS = frozenset(
    "a an and are as at be by can do does for from has have how i if in is it its of on or that the their "
    "then there these this to was were what when where which who why will with you your based information "
    "provided sources source according".split()
)


def content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS}


def strip_markers(text: str) -> str:
    """The text without its `[n]` markers (for history, where old source numbers mean nothing)."""
    return " ".join(_outside_code(re.compile(rf"\s*{_MARKER.pattern}").sub, text).split())


def strip_references(text: str) -> str:
    """The text without bracketed numbers: our `[n]` markers in an answer, the document's own references
    in a source; spacing is otherwise kept (offsets into a sentence are not needed after this)."""
    return _outside_code(_REFERENCE.sub, text)


def strip_source_references(text: str) -> str:
    """A source's text without its own numbered references ("in the literature [46] .", "cases [5-7]"), which
    the model would copy as citations; an index or a list glued to code or maths stays ("object[0]",
    "x = [0, 1]", "k ∈ [3, 16]"), and so does a reference glued to its word ("Forbes[29]"), rare in prose."""
    return _outside_code(_SOURCE_REFERENCE.sub, text)


def _outside_code(substitute: Callable[[str, str], str], text: str) -> str:
    """`text` with `substitute(replacement, part)` applied to its parts outside Markdown code, removing."""
    kept, start = [], 0
    for code in _CODE.finditer(text):
        kept += [substitute("", text[start : code.start()]), code.group()]
        start = code.end()
    return "".join([*kept, substitute("", text[start:])])


def marker_numbers(text: str) -> list[int]:
    """Every number of the [n] or [n, m] markers in `text`, in order of first use, in range or not."""
    seen: list[int] = []
    for group in _MARKER.findall(_CODE.sub(" ", text)):
        seen += [number for number in map(int, group.split(",")) if number not in seen]
    return seen


def cited_numbers(text: str, valid: int) -> list[int]:
    """Source numbers cited in `text` as [n] or [n, m], in order of first use, within 1..valid."""
    return [number for number in marker_numbers(text) if 1 <= number <= valid]


def leading_markers(text: str) -> str:
    """The markers that open `text` with the spaces and full stops between them ("" if none): a model that
    puts "[2]" after a sentence's full stop starts the next sentence with it."""
    found = _LEADING_MARKERS.match(text)
    return found.group() if found else ""
