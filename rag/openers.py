"""Drop the filler opening small models put before an answer: "Based on the information provided in the
sources, the warranty lasts two years." becomes "The warranty lasts two years."

Only an opening clause that is about the sources ("based on / according to / from / as stated in / in
... the sources / information / context / text / passages / documents / excerpts ...", up to its comma)
goes; one that carries content ("According to the California Code of Regulations, ...") or a citation
marker stays. The streamed answer is filtered as it arrives: tokens are held back only while the
answer's first words could still be such an opening. This module does not change anything else in the
answer (citations are checked in `rag.support`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

_FILLER = re.compile(
    r"(?:based on|according to|from|as (?:stated|mentioned|described|shown|given) in|in)\b"
    r"[^,.\[\]\n]{0,80}?\b(?:sources?|information|context|texts?|passages?|documents?|excerpts?)\b"
    r"[^,.\[\]\n]{0,40}?,\s*",
    re.IGNORECASE,
)
_OPENING_WORDS = {"based", "according", "from", "as", "in"}
_CLAUSE_END = re.compile(r"[,.\[\]\n]")
_HOLD_AT_MOST = 160  # characters: an opening longer than the pattern allows is not one


def drop_filler_opening(text: str) -> str:
    """`text` without a filler opening clause, its next word capitalised; unchanged without one."""
    lead = len(text) - len(text.lstrip())
    found = _FILLER.match(text, lead)
    if found is None or found.end() == len(text):
        return text
    rest = text[found.end() :]
    return text[:lead] + rest[:1].upper() + rest[1:]


def strip_filler_opening(chunks: Iterable[str]) -> Iterator[str]:
    """The streamed answer with a filler opening dropped, passing tokens on as soon as it can tell."""
    held = ""
    stream = iter(chunks)
    for chunk in stream:
        held += chunk
        if _undecided(held):
            continue
        yield drop_filler_opening(held)
        break
    else:
        if held:
            yield drop_filler_opening(held)
        return
    yield from stream


def _undecided(held: str) -> bool:
    """Whether the first words could still be a filler opening whose clause has not ended (and been
    followed by the next word, which is capitalised when the opening goes)."""
    words = held.lower().split()
    if not words:
        return True
    if len(words) == 1 and not held[-1].isspace():  # "Accord" may become "According"
        return any(opening.startswith(words[0]) for opening in _OPENING_WORDS)
    if words[0] not in _OPENING_WORDS or len(held) > _HOLD_AT_MOST:
        return False
    end = _CLAUSE_END.search(held)
    return end is None or not held[end.end() :].strip()
