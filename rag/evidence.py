"""Evidence for the prompt: the sentences of the retrieved passages that are closest to the question.

A small model answers better, and much sooner, from the few sentences that matter than from whole
passages: prompt evaluation is most of the time to first token on a CPU. Every sentence of every passage
with at least `MIN_WORDS` content words (a heading says what a passage is about, not what it says) is
scored against the question (`relevance`: the mean of cosine similarity and the share of the question's
content words it holds, each word weighted by its rarity in the collection); the best `limit` are kept,
in their passage's order, joined by " … "; a sentence among them twice (neighbouring chunks overlap)
is shown once, whole. Passages keep their numbers, so citations still point at the
full passages listed as sources; a passage none of whose sentences is kept is left out of the prompt.

The best sentence's score is the evidence's strength. Its grounding reads each sentence in its
document: a question word the sentence lacks but its file holds counts `file_credit` of its weight, since
an answering sentence seldom repeats what its whole document is about ("NVIDIA's", "the 10-Q", the
virus an article studies). The best passage's cosine with the question adds to it, `passage_weight`
times its margin over the embedding model's weak-evidence floor (`retrieval.min_score` as measured for
the model; nothing below it): a question about what a whole passage is about scores high there even
when no one sentence repeats its words (docugami's long analytic questions), while a question whose
document is absent finds no passage close on either count. When the grounding is below
`answers.min_evidence`, nothing retrieved says much about the question, and the chain replies "not
found" instead of letting the model guess (threshold, credit and weight measured: README, "Answer
quality"). Rarity is what tells an absent answer from a present one: a collection without the article
on "RANBP2" still has sentences on nuclear pores, but none holds that name, and no file does either.
This module does not call a chat model or read the index itself; the caller passes the rarity and the
file lookup (`rag.lexical.LexicalIndex.rarity`, `words_in_files`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from rag.answer_types import asked_kind, holds_kind
from rag.citations import content_words
from rag.passages import Passage, best_score
from rag.sentences import Span
from rag.support import Embed, Window, cosine_scores, sentence_windows, stems

GAP = " … "
Rarity = Callable[[Sequence[str]], Mapping[str, float]]  # words as written -> their rarity (stemmed there)
InFiles = Callable[[Sequence[str], Sequence[str]], Mapping[str, Collection[str]]]  # (words, paths) -> held
MIN_WORDS = 3  # a sentence with fewer content words (a heading: "Warranty Overview") is not evidence
# "How long", "how many": the word asks for a kind of answer (a duration, a number); it is not a topic
_HOW_WORDS = re.compile(r"\bhow\s+(long|much|many|often|far|old|soon)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Selected:
    """The passages as the prompt shows them, the best sentence's relevance to the question (None: not
    measured, nothing to refuse on), and its grounding: the best relevance of a sentence read in its
    document, plus the best passage's margin (see the module docstring; the strength when neither the
    documents' words nor the passages' scores were looked at). The refusal gate reads the grounding."""

    passages: list[Passage]
    strength: float | None = None
    best: tuple[int, str] | None = None  # the closest sentence: (source number, text)
    grounding: float | None = None


def select_evidence(
    question: str,
    passages: Sequence[Passage],
    embed: Embed,
    limit: int,
    rarity: Rarity | None = None,
    in_files: InFiles | None = None,
    file_credit: float = 0.0,
    passage_weight: float = 0.0,
    score_floor: float = 0.0,
    type_weight: float = 0.0,
) -> Selected:
    """The passages cut down to their `limit` best sentences overall (0: kept whole), with the strength
    and grounding of the evidence (see the module docstring); `rarity` weighs the question's words by how
    rare they are in the collection (e.g. `LexicalIndex.rarity`), `in_files` tells which of them each
    passage's file holds (e.g. `LexicalIndex.words_in_files`), each counting `file_credit` of its weight;
    the best passage score's margin over `score_floor` (0 if below) adds `passage_weight` times itself;
    `type_weight` raises, in the ranking only, a sentence holding the kind of answer the question asks
    for (`rag.answer_types`: a duration, a date, a number)."""
    sentences = sentence_windows(passages)
    windows = [w for w in sentences if is_evidence(w)] or sentences
    if not windows:
        return Selected(list(passages), 0.0, grounding=0.0)
    match = _match(question, windows, embed, rarity)
    scores = match.scores()
    ranking = scores + type_weight * _holds_asked_kind(question, windows) if type_weight else scores
    order = sorted(range(len(windows)), key=lambda i: -ranking[i])
    texts = [" ".join(w.text.split()) for w in windows]  # spaces normalised
    first = _whole(order[0], texts)  # a sentence cut at a chunk's edge: its whole one
    strength, best = float(scores.max()), (windows[first].rank, windows[first].text)
    grounding = strength
    if in_files and file_credit > 0:
        grounding = float(match.scores(_file_words(match, windows, passages, in_files), file_credit).max())
    grounding += passage_weight * max(0.0, best_score(passages) - score_floor)
    if limit <= 0:
        return Selected(list(passages), strength, best, grounding)
    kept = sorted(_distinct(order[:limit], texts), key=lambda i: windows[i].parts)
    by_rank: dict[int, list[str]] = {}
    for index in kept:
        by_rank.setdefault(windows[index].rank, []).append(windows[index].text)
    shown = [replace(p, text=GAP.join(by_rank[p.rank])) for p in passages if p.rank in by_rank]
    return Selected(shown, strength, best, grounding)


@dataclass(frozen=True)
class _Match:
    """How each window matches the question: its cosine, the weight of the question's words it holds,
    the question's words (`written`: stem -> the question's word) and their weights."""

    cosine: np.ndarray
    held: np.ndarray
    written: dict[str, str]
    weights: dict[str, float]
    total: float

    def scores(self, elsewhere: np.ndarray | None = None, credit: float = 0.0) -> np.ndarray:
        """Relevance of each window; `elsewhere`: the weight of words it lacks that its file holds."""
        held = self.held if elsewhere is None else self.held + credit * elsewhere
        return (self.cosine + (held / self.total if self.total else 0.0)) / 2


def relevance(question: str, windows: list[Window], embed: Embed, rarity: Rarity | None = None) -> np.ndarray:
    """How well each window answers to the question: the mean of their cosine similarity and the share of
    the question's words (stemmed) the window holds, each word weighted by its rarity (unweighted without
    `rarity`). Unlike the support check of a claim, a number of the question is not required: questions
    name things with digits ("HIV-1", "IL-1β", "3a") that the answering sentence may write otherwise; a
    missing one lowers the share by its weight, which is high for a rare name."""
    return _match(question, windows, embed, rarity).scores()


def _match(question: str, windows: list[Window], embed: Embed, rarity: Rarity | None) -> _Match:
    cosine = np.clip(cosine_scores([question], windows, embed)[0], 0.0, 1.0)
    wanted = stems(question) - stems(" ".join(_HOW_WORDS.findall(question)))
    written = _written(question, wanted)
    weights = _rarities(written, rarity) if rarity else {}
    total = sum(weights.get(word, 1.0) for word in wanted)
    held = np.array([sum(weights.get(word, 1.0) for word in wanted & stems(w.text)) for w in windows])
    return _Match(cosine, held, written, weights, total)


def _file_words(
    match: _Match, windows: list[Window], passages: Sequence[Passage], in_files: InFiles
) -> np.ndarray:
    """For each window, the weight of the question's words it lacks but its passage's file holds."""
    path_of = {p.rank: p.path for p in passages}
    holders = in_files(sorted(set(match.written.values())), sorted(set(path_of.values())))
    in_file = {
        path: {s for s, word in match.written.items() if word in held} for path, held in holders.items()
    }
    lacking = [in_file.get(path_of[w.rank], set()) - stems(w.text) for w in windows]
    return np.array([sum(match.weights.get(word, 1.0) for word in words) for words in lacking])


def question_weights(question: str, wanted: Collection[str], rarity: Rarity) -> dict[str, float]:
    """The rarity of each wanted stem of the question, asked for by the word as the question writes it:
    the index stems what it is given, and stemming a stem again can give another word ("disease" ->
    "diseas" -> "disea", which no chunk holds, so the commonest word would weigh the most)."""
    return _rarities(_written(question, wanted), rarity)


def _rarities(written: dict[str, str], rarity: Rarity) -> dict[str, float]:
    """Each stem's rarity, asked for by its written word (`written`: stem -> the question's word)."""
    if not written:
        return {}
    found = rarity(sorted(set(written.values())))
    return {stem: found[word] for stem, word in written.items() if word in found}


def _written(question: str, wanted: Collection[str]) -> dict[str, str]:
    """Each wanted stem -> the question's word it comes from (the first, alphabetically)."""
    wanted = set(wanted)
    written: dict[str, str] = {}
    for word in sorted(content_words(question)):
        for stem in stems(word) & wanted:
            written.setdefault(stem, word)
    return written


def _holds_asked_kind(question: str, windows: list[Window]) -> np.ndarray:
    """1 for each window holding the kind of answer the question asks for, else 0 (all 0: no kind)."""
    kind = asked_kind(question)
    return np.array([float(kind is not None and holds_kind(w.text, kind, question)) for w in windows])


def _distinct(chosen: list[int], texts: list[str]) -> list[int]:
    """The chosen windows, each sentence once and whole: neighbouring chunks overlap, so a sentence can
    come twice, or once cut at a chunk's edge; a cut one is replaced by the whole one, from whichever
    passage holds it (chosen or not), and a repeat is dropped. Nothing is added in the place of a repeat
    (a shorter prompt: the model is sooner to answer). `texts`: every window's text, spaces normalised."""
    kept: dict[str, int] = {}  # text -> window index
    for index in (_whole(i, texts) for i in chosen):
        if any(texts[index] in seen for seen in kept):
            continue
        for cut in [seen for seen in kept if seen in texts[index]]:
            del kept[cut]
        kept[texts[index]] = index
    return list(kept.values())


def _whole(index: int, texts: list[str]) -> int:
    """The longest window that is `index`'s sentence uncut: one its text begins or ends (a chunk's edge
    cut the rest off), else `index` itself."""
    cut = texts[index]
    wholes = [
        i
        for i, text in enumerate(texts)
        if len(text) > len(cut) and (text.startswith(cut) or text.endswith(cut))
    ]
    return max(wholes, key=lambda i: len(texts[i]), default=index)


def is_evidence(sentence: Window | Span) -> bool:
    """Whether a sentence can be evidence: at least `MIN_WORDS` content words (a heading cannot)."""
    return len(content_words(sentence.text)) >= MIN_WORDS


class MemoEmbed:
    """An embedding function that remembers the vectors of recent texts: the sentences embedded to choose
    the evidence are embedded again by the support check after the answer.

    New texts are embedded shortest first, `group` at a time: a batch is padded to its longest text, so
    one batch of a question's ~25 sentences costs ~30% more than groups of 8 of similar length (measured:
    README, Performance)."""

    def __init__(
        self, embed: Callable[[list[str]], list[list[float]]], size: int = 4096, group: int = 8
    ) -> None:
        self.embed = embed
        self.size = size
        self.group = group
        self.vectors: dict[str, list[float]] = {}

    def __call__(self, texts: list[str]) -> list[list[float]]:
        missing = self._missing(texts)
        if missing and len(self.vectors) + len(missing) > self.size:
            self.vectors.clear()  # then every text of this call is missing
            missing = self._missing(texts)
        for start in range(0, len(missing), self.group):
            batch = missing[start : start + self.group]
            self.vectors.update(zip(batch, self.embed(batch), strict=True))
        return [self.vectors[t] for t in texts]

    def _missing(self, texts: list[str]) -> list[str]:
        """The texts without a remembered vector, once each, shortest first."""
        return sorted(dict.fromkeys(t for t in texts if t not in self.vectors), key=len)
