"""What kind of answer a question asks for, and whether a sentence holds one.

"How long does the warranty last?" asks for a duration, "When was the virus identified?" for a date,
"How many patients were enrolled?" for a number. A sentence that holds none ("The limited warranty is
designed to protect you against manufacturing defects.") cannot answer it, however many of the question's
words it repeats; one that holds a duration ("protected by a two-year limited warranty") may. The evidence
step (`rag.evidence`) raises such sentences in its ranking by `answers.answer_type_weight`.

Only three kinds are told, by the question's wording (English): durations, dates and numbers. A question
of any other kind (what, why, who, which) asks for nothing this module can see, and no sentence gains.
A number the question itself holds ("in 2019", "HIV-1") does not count as the sentence's answer. This
module does not parse dates or units beyond these patterns and does not read the sources' meaning.
"""

from __future__ import annotations

import re
from typing import Literal

from rag.support import NUMBER_WORDS, QUANTITY

Kind = Literal["duration", "date", "number"]

# the support check's number words, and "one" (a pronoun there, an answer here) and vaguer counts
_NUMBER = (
    "(?:"
    + "|".join([QUANTITY.pattern, *NUMBER_WORDS, "one", "fifteen", "sixty", "hundred", "several", "a few"])
    + ")"
)
_TIME_UNIT = r"(?:second|minute|hour|day|week|month|year|decade|century)s?"
# "may" is a month only beside a number ("9 May", "May 2020"): it is far more often the verb
_MONTH = (
    r"(?:january|february|march|april|june|july|august|september|october|november|december|"
    r"\d{1,2}\s+may|may\s+\d{1,4})"
)
_SENTENCE_PATTERNS: dict[Kind, re.Pattern[str]] = {
    "duration": re.compile(rf"\b{_NUMBER}(?:\s*(?:-|to|–)\s*{_NUMBER})?[\s-]+{_TIME_UNIT}\b", re.IGNORECASE),
    "date": re.compile(rf"\b(?:1[5-9]\d\d|20\d\d)s?\b|\b{_MONTH}\b", re.IGNORECASE),
    "number": re.compile(rf"\b{_NUMBER}\b\s*%?|\d+(?:\.\d+)?\s*%", re.IGNORECASE),
}
_QUESTION_PATTERNS: list[tuple[Kind, re.Pattern[str]]] = [
    (
        "duration",
        re.compile(
            r"\bhow\s+long\b|\bwhat\s+(?:is|was|are|were)\s+(?:the\s+)?(?:[\w-]+\s+){0,2}(?:period|duration)s?\b",
            re.IGNORECASE,
        ),
    ),
    ("date", re.compile(r"^\s*when\b|\b(?:what|which)\s+(?:year|date|month|day)\b", re.IGNORECASE)),
    (
        "number",
        re.compile(
            r"\bhow\s+(?:many|much|often|old|far)\b|\b(?:what|which)\s+(?:is|was|are|were)?\s*(?:the\s+)?"
            r"(?:percentage|proportion|number|rate|ratio|amount|size|value|range|dose|count|price|cost|r0)\b",
            re.IGNORECASE,
        ),
    ),
]


def asked_kind(question: str) -> Kind | None:
    """The kind of answer `question` asks for, or None when its wording asks for none of them."""
    return next((kind for kind, pattern in _QUESTION_PATTERNS if pattern.search(question)), None)


def holds_kind(sentence: str, kind: Kind, question: str = "") -> bool:
    """Whether `sentence` holds an answer of `kind`, other than a number `question` itself holds."""
    own = set(QUANTITY.findall(question))
    return any(
        not own.intersection(QUANTITY.findall(m.group())) for m in _SENTENCE_PATTERNS[kind].finditer(sentence)
    )
