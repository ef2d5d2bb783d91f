"""End an answer that starts repeating itself. A small model sometimes loops on one sentence ("The Masked
Language Modeling loss is a loss that ... [5] The Masked Language Modeling loss is a loss that ...") until
its token limit: the reader gets the same words again and again and waits seconds for them.

The streamed answer is passed on as it arrives. A sentence or line is held back only while its words so
far are the start of one already written; when it ends as a repeat of one (4 words or more; markers,
list numbers, emphasis and case aside), it is dropped and the stream ends, which stops generation. A
phrase said a third time right after itself is held the same way, and a loop of it ("intermediate
intermediate intermediate ...", 3 sayings and 12 words at least) ends the answer after its second saying. The
markers that follow a sentence's full stop ("... model. [5]") belong to it and are never dropped. A run
of markers longer than `MAX_MARKERS` ("[1] [2] [3] ... [96]", the model counting up to its token limit)
ends the answer after the run's `MAX_MARKERS`-th marker. The
model adapters (`rag.llms.llamacpp`, `rag.llms.ollama`) apply it to what they stream, since only they can
stop generation: a LangChain step after the model reads its whole stream.

This module does not judge content: near repeats, repeated clauses inside a sentence, short repeated
items ("- Fever") and lines of a fenced code block pass.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

_M = r"\[\d+(?:\s*,\s*\d+)*\]"  # a marker: [2], [1, 3]
_UNIT_END = re.compile(r"\n|(?<=[.!?])\s")  # a line or a sentence ends here
_LEAD = re.compile(rf"(?:\s|{_M})*")  # markers and spaces before a unit's own words
_MARKER = re.compile(rf"{_M}|\[\d*$")  # a marker, or one still being written
_LIST_NUMBER = re.compile(r"^\s*(?:[-*•]|\d+[.)])(?:\s+|$)")
_ONLY_NUMBER = re.compile(r"\s*\d+[.)]")  # "2." before a list item's words ends no sentence
_WORD = re.compile(r"\w+")
_ONE_MARKER = re.compile(_M)
_MARKER_RUN = re.compile(rf"{_M}(?:[\s,;]*{_M})*")  # markers in a row
_PARTIAL_MARKER = re.compile(r"\[\d*(?:\s*,\s*\d*)*$")  # "[1", "[1, " at the end: still being written
MIN_WORDS = 4
MAX_MARKERS = 10  # markers in a row an answer may write (sources are fewer)
MAX_PHRASE = 12  # words in a phrase a loop repeats
LOOP_WORDS = 12  # words a phrase said 3 times or more must reach to be a loop


@dataclass(frozen=True)
class _Unit:
    start: int  # where it starts, after the markers that close the unit before it
    key: str  # its words, lower case, markers and list number left out
    bare: bool = False  # a list number or bullet and no words yet


def _key(text: str) -> str:
    return " ".join(_WORD.findall(_MARKER.sub(" ", _LIST_NUMBER.sub("", text)).lower()))


def _units(text: str) -> tuple[list[_Unit], _Unit]:
    """The finished sentences and lines of `text`, and the unfinished one at its end."""
    finished, start = [], 0
    for end in _UNIT_END.finditer(text):
        if end.start() >= start and not _ONLY_NUMBER.fullmatch(text, start, end.start()):
            finished.append(_unit(text, start, end.start()))
            start = end.end()
    return finished, _unit(text, start, len(text))


def _unit(text: str, start: int, end: int) -> _Unit:
    if text.count("```", 0, start) % 2:  # inside a code block, lines may repeat ("for i in range(n):")
        return _Unit(start, "")
    own = _LEAD.match(text, start, end).end()
    key = _key(text[own:end])
    return _Unit(own, key, not key and own < end)


def _first_repeat(units: list[_Unit]) -> _Unit | None:
    seen: set[str] = set()
    for unit in units:
        if len(unit.key.split()) >= MIN_WORDS and unit.key in seen:
            return unit
        seen.add(unit.key)
    return None


def _held_from(finished: list[_Unit], open_unit: _Unit) -> int | None:
    """Where to hold the text back: the open unit's start, while its words begin a finished unit's."""
    if open_unit.bare:
        return open_unit.start
    if not open_unit.key:
        return None
    begins = any(u.key.startswith(open_unit.key) and len(u.key.split()) >= MIN_WORDS for u in finished)
    return open_unit.start if begins else None


@dataclass(frozen=True)
class _Loop:
    after_two: int  # where the phrase's third saying starts: text from here is held, or dropped
    ended: bool  # said often enough to be a loop: the answer ends at `after_two`


def _phrase_loop(text: str) -> _Loop | None:
    """A phrase (up to `MAX_PHRASE` words) said twice or more in a row at the end of `text`, the last
    saying perhaps begun only ("intermediate intermediate", "A, B, C, A, B, C, A"); a loop once its
    sayings reach 3 and `LOOP_WORDS` words. A word still being written (at the very end) is not counted."""
    found = [w for w in _WORD.finditer(text) if w.end() < len(text)]
    words = [w.group().lower() for w in found]
    n = len(words)
    for size in range(1, MAX_PHRASE + 1):
        periodic = size  # the longest run of words at the end that repeats with this period
        while periodic < n and words[n - periodic - 1] == words[n - periodic - 1 + size]:
            periodic += 1
        if periodic >= 2 * size:
            third = n - periodic + 2 * size
            at = found[third].start() if third < n else found[-1].end()
            return _Loop(at, periodic >= max(3 * size, LOOP_WORDS))
    return None


def _marker_run_end(text: str) -> int | None:
    """Where the first run of more than `MAX_MARKERS` markers in a row is cut: after its last allowed one."""
    for run in _MARKER_RUN.finditer(text):
        markers = list(_ONE_MARKER.finditer(run.group()))
        if len(markers) > MAX_MARKERS:
            return run.start() + markers[MAX_MARKERS - 1].end()
    return None


def stop_repeats(chunks: Iterable[str]) -> Iterator[str]:
    """The streamed answer, ended before the first sentence or line that repeats an earlier one, after
    the second saying of a phrase it loops on, or inside a run of too many markers."""
    text, sent = "", 0
    for chunk in chunks:
        text += chunk
        finished, open_unit = _units(text)
        repeat, loop, markers = _first_repeat(finished), _phrase_loop(text), _marker_run_end(text)
        if markers is not None:
            yield text[sent : max(markers, sent)]
            return
        if repeat is not None or (loop and loop.ended):
            end = repeat.start if repeat is not None else loop.after_two
            yield text[sent : max(end, sent)]
            return
        writing = _PARTIAL_MARKER.search(text)  # held until whole: it may be one marker too many
        held = (_held_from(finished, open_unit), loop and loop.after_two, writing and writing.start())
        holds = [h for h in held if h is not None]
        if (upto := max(min(holds), sent) if holds else len(text)) > sent:
            yield text[sent:upto]
            sent = upto
    finished, last = _units(text)
    repeat = _first_repeat([*finished, last])  # the answer may end inside a repeat
    if (end := len(text) if repeat is None else repeat.start) > sent:
        yield text[sent:end]
