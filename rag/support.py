"""Checked citations: for each sentence of an answer, the span of a source that supports it.

After the model has answered, each answer sentence is compared with every sentence of every source (and
each pair of neighbouring source sentences, since an answer often joins two). A source span supports an
answer sentence when the mean of two measures reaches `SUPPORT_THRESHOLD`:

- meaning: cosine similarity of the two, embedded with the collection's own model;
- words: the share of the answer sentence's content words (numbers included, words stemmed) found in the
  span.

A span that lacks a number the sentence states never supports it ("costs 120" is not "costs 9.50"), nor
does one that gives a quantity of the sentence another number ("lasts three years" vs "during these two
years … the three systems"; number words count as digits). A source's own bracketed references ("in
2020 [26] that") are not numbers it states.

The threshold was measured on covidqa_dev (README, "Answer quality"). Then the citations are fixed: a
sentence keeps the `[n]` markers whose source supports it; a marker pointing to a source that doesn't is
replaced by the best supporting source, or dropped when none supports the sentence, which is then marked
unsupported. Sentences with fewer than two content words ("Yes.") are not claims: their valid markers
are kept unchecked.
The answer's sources are then only those its sentences rest on. This module does not call a chat model.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import snowballstemmer

from rag.citations import cited_numbers, content_words, strip_references
from rag.passages import Passage
from rag.sentences import Span, sentence_spans

SUPPORT_THRESHOLD = 0.6  # mean of cosine and word coverage (measured: README, "Answer quality")
PAIR_MARGIN = 0.02  # how much better two neighbouring sentences must support a claim than one alone
_NUMBER = re.compile(r"[0-9]")
_TOKEN = re.compile(r"[a-z0-9]+(?:[.,][0-9]+)*")
QUANTITY = re.compile(r"[0-9]+(?:[.,][0-9]+)*")  # a count or measure: digits only ("3a", "229e" name things)
NUMBER_WORDS = dict(  # "one" is left out: it is a pronoun as often as a number
    zip(
        "two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty".split(),
        "2 3 4 5 6 7 8 9 10 11 12 20 30 40 50".split(),
        strict=True,
    )
)
_STOPWORDS = frozenset("a an and are as at by for from in is of on or per the to was were with".split())
Embed = Callable[[list[str]], Sequence[Sequence[float]]]


@dataclass(frozen=True)
class Evidence:
    """A supporting span: `text[start:end]` of source number `rank`, with its support score."""

    rank: int
    start: int
    end: int
    score: float

    def to_json(self) -> dict[str, Any]:
        return {"n": self.rank, "start": self.start, "end": self.end, "score": round(self.score, 3)}


@dataclass(frozen=True)
class CheckedSentence:
    """One answer sentence: its text without markers, the markers the model wrote, the checked markers,
    and the evidence (best first) from the sources that support it."""

    text: str
    model_cited: tuple[int, ...]
    cited: tuple[int, ...]
    evidence: tuple[Evidence, ...] = ()
    claim: bool = True
    after: str = " "  # what separated it from the next sentence in the answer (a space or line breaks)
    closest: float = 0.0  # the best support score of any source span, reaching the threshold or not

    @property
    def supported(self) -> bool:
        return bool(self.cited) or not self.claim

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "supported": self.supported,
            "cited": list(self.cited),
            "model_cited": list(self.model_cited),
            "evidence": [e.to_json() for e in self.evidence],
        }


@dataclass(frozen=True)
class CheckedAnswer:
    sentences: list[CheckedSentence] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The answer with its checked markers."""
        return "".join(_with_markers(s) + s.after for s in self.sentences).strip()

    @property
    def cited(self) -> list[int]:
        """Source numbers the answer rests on, in order of first use."""
        return list(dict.fromkeys(n for s in self.sentences for n in s.cited))

    @property
    def unsupported(self) -> list[CheckedSentence]:
        return [s for s in self.sentences if not s.supported]

    @property
    def closest(self) -> float:
        """How near the best-supported claim came to a source span (0 without claims)."""
        return max((s.closest for s in self.sentences if s.claim), default=0.0)


def _with_markers(sentence: CheckedSentence) -> str:
    return sentence.text + "".join(f" [{n}]" for n in sentence.cited)


@dataclass(frozen=True)
class Window:
    """Candidate evidence: one source sentence (`parts` = its own index) or two neighbours (both indexes)."""

    rank: int
    start: int
    end: int
    text: str
    parts: tuple[int, ...]


def sentence_windows(sources: Sequence[Passage]) -> list[Window]:
    """Every source sentence, numbered across the sources (`parts` = its own index)."""
    windows: list[Window] = []
    for passage in sources:
        windows += _passage_sentences(passage, first=len(windows))
    return windows


def source_windows(sources: Sequence[Passage]) -> list[Window]:
    """Every source sentence, then each pair of neighbouring sentences of one source: candidate evidence."""
    singles: list[Window] = []
    pairs: list[Window] = []
    for passage in sources:
        sentences = _passage_sentences(passage, first=len(singles))
        singles += sentences
        pairs += [
            Window(passage.rank, a.start, b.end, passage.text[a.start : b.end], (*a.parts, *b.parts))
            for a, b in zip(sentences, sentences[1:], strict=False)
        ]
    return singles + pairs


def _passage_sentences(passage: Passage, first: int) -> list[Window]:
    """A passage's sentences as windows numbered from `first`."""
    spans = stored_sentences(passage.text, passage.path)
    return [Window(passage.rank, s.start, s.end, s.text, (first + i,)) for i, s in enumerate(spans)]


def stored_sentences(text: str, path: str) -> list[Span]:
    """The sentences of a stored chunk of the file at `path` (PDF text unwrapped first)."""
    return sentence_spans(text, wrapped=path.lower().endswith(".pdf"))


def support_scores(claims: list[str], windows: list[Window], embed: Embed) -> np.ndarray:
    """Support of each window for each claim (rows: claims), the mean of cosine and word coverage."""
    cosine = cosine_scores(claims, windows, embed)
    window_terms = [_Terms.of(w.text) for w in windows]
    coverage = np.array([[_coverage(_Terms.of(c), terms) for terms in window_terms] for c in claims])
    return np.where(coverage < 0, 0.0, (np.clip(cosine, 0.0, 1.0) + coverage) / 2)


def cosine_scores(claims: list[str], windows: list[Window], embed: Embed) -> np.ndarray:
    """Cosine similarity of each window to each claim (rows: claims).

    Only claims and single sentences are embedded; a pair's vector is the mean of its sentences' (the
    embedding of the joined text costs as much again and ranks the same)."""
    singles = [w for w in windows if len(w.parts) == 1]
    vectors = _unit(np.asarray(embed([*claims, *(w.text for w in singles)]), dtype=np.float32))
    claim_vectors, sentence_vectors = vectors[: len(claims)], vectors[len(claims) :]
    row = {w.parts[0]: i for i, w in enumerate(singles)}  # a pair's sentences must be among the windows
    window_vectors = _unit(
        np.stack([sentence_vectors[[row[p] for p in w.parts]].mean(axis=0) for w in windows])
    )
    return claim_vectors @ window_vectors.T


@dataclass(frozen=True)
class _Terms:
    """A text's content words, stemmed ("descaled" and "descale" match), number words as digits, and its
    quantities: (number, the word after it), a number that ends a name ("SAB-301") not counted. Bracketed
    numbers are left out: a source's own references ("in 2020 [26] that") are neither words nor counts."""

    words: frozenset[str]
    quantities: frozenset[tuple[str, str]]

    @classmethod
    def of(cls, text: str) -> _Terms:
        text = strip_references(text)
        found = list(_TOKEN.finditer(text.lower()))
        tokens = [NUMBER_WORDS.get(m.group()) or _stem(m.group()) for m in found]
        counts = [QUANTITY.fullmatch(t) and not _in_name(m) for t, m in zip(tokens, found, strict=True)]
        quantities = {
            (number, unit)
            for number, unit, counted in zip(tokens, tokens[1:], counts, strict=False)
            if counted and unit.isalpha() and unit not in _STOPWORDS
        }
        words = {NUMBER_WORDS.get(w) or _stem(w) for w in content_words(text)}
        return cls(frozenset(words), frozenset(quantities))


def _in_name(number: re.Match[str]) -> bool:
    """Whether the number ends a name ("SAB-301", "COVID-19", "HIV/1"): not a count of the word after it."""
    start, text = number.start(), number.string
    return start >= 2 and text[start - 1] in "-/" and text[start - 2].isalpha()


def stems(text: str) -> frozenset[str]:
    """A text's content words as the check compares them: stemmed, number words as digits."""
    return _Terms.of(text).words


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return snowballstemmer.stemmer("english").stemWord(word)  # a stemmer per word: they keep state


def word_coverage(claim: str, texts: Sequence[str]) -> list[float]:
    """For each text, the share of the claim's content words it holds (stemmed, numbers as digits); 0 for
    a text that lacks a number of the claim or gives one of its quantities another number."""
    terms = _Terms.of(claim)
    return [max(_coverage(terms, _Terms.of(text)), 0.0) for text in texts]


def _coverage(claim: _Terms, window: _Terms) -> float:
    """Share of the claim's words in the window; -1 when a number of the claim is missing from it, or
    when the window gives one of the claim's quantities another number ("three years" vs "two years")."""
    if any(_NUMBER.search(w) and w not in window.words for w in claim.words):
        return -1.0
    units = {unit for _, unit in window.quantities}
    if any(unit in units and (number, unit) not in window.quantities for number, unit in claim.quantities):
        return -1.0
    if not claim.words:
        return 0.0
    return len(claim.words & window.words) / len(claim.words)


def _unit(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1, norms)


def check_answer(
    answer: str, sources: Sequence[Passage], embed: Embed, threshold: float = SUPPORT_THRESHOLD
) -> CheckedAnswer:
    """The answer's sentences with their citations checked against the sources (see the module docstring)."""
    spans = sentence_spans(answer)
    texts = [strip_references(s.text).strip() for s in spans]
    is_claim = [len(content_words(t)) >= 2 for t in texts]
    windows = source_windows(sources)
    claims = [t for t, claim in zip(texts, is_claim, strict=True) if claim]
    scores = iter(support_scores(claims, windows, embed) if claims and windows else [])
    checked = []
    for span, text, claim, after in zip(spans, texts, is_claim, _separators(answer, spans), strict=True):
        scored = claim and bool(windows)
        row = next(scores) if scored else np.zeros(1)  # no spans to score: closest 0
        evidence = _evidence(row, windows, threshold) if scored else []
        model_cited = tuple(cited_numbers(span.text, valid=len(sources) + 99))
        unchecked = tuple(n for n in model_cited if n <= len(sources))  # too short to check: kept if valid
        markers = _checked_markers(model_cited, evidence) if claim else unchecked
        sentence = CheckedSentence(
            text, model_cited, markers, tuple(evidence), claim, after, float(row.max())
        )
        checked.append(sentence)
    return CheckedAnswer(checked)


def _separators(answer: str, spans: list[Span]) -> list[str]:
    """What follows each sentence: line breaks kept (lists, paragraphs), anything else one space."""
    ends = [s.start for s in spans[1:]] + [len(answer)]
    return ["\n" * answer.count("\n", s.end, end) or " " for s, end in zip(spans, ends, strict=True)]


def _evidence(scores: np.ndarray, windows: list[Window], threshold: float) -> list[Evidence]:
    """The best supporting window of each source that supports the claim, best source first; a pair of
    sentences must beat a single one by `PAIR_MARGIN` (the highlight stays as short as it can)."""
    best: dict[int, Evidence] = {}
    handicap = np.array([PAIR_MARGIN * (len(w.parts) - 1) for w in windows])
    for index in np.argsort(-(scores - handicap), kind="stable"):
        window = windows[index]
        if scores[index] >= threshold and window.rank not in best:
            best[window.rank] = Evidence(window.rank, window.start, window.end, float(scores[index]))
    return list(best.values())


def _checked_markers(model_cited: list[int], evidence: list[Evidence]) -> tuple[int, ...]:
    """The model's markers whose source supports the sentence, else the best supporting source."""
    supporting = [e.rank for e in evidence]
    kept = tuple(n for n in model_cited if n in supporting)
    return kept or tuple(supporting[:1])
