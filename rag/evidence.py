"""Evidence for the prompt: the sentences of the retrieved passages that are closest to the question.

A small model answers better, and much sooner, from the few sentences that matter than from whole
passages: prompt evaluation is most of the time to first token on a CPU. Every sentence of every passage
with at least `MIN_WORDS` content words (a heading says what a passage is about, not what it says) is
scored against the question as the support check scores a claim (`rag.support`: the mean of cosine
similarity and the share of the question's content words it holds); the best `limit` sentences are kept,
in their passage's order, joined by " … ". Passages keep their numbers, so citations still point at the
full passages listed as sources; a passage none of whose sentences is kept is left out of the prompt.

The best sentence's score is the evidence's strength: when it is below `answers.min_evidence`, no
retrieved sentence says much about the question, and the chain replies "not found" instead of letting
the model guess (threshold measured: README, "Answer quality"). This module does not call a chat model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from rag.citations import content_words
from rag.passages import Passage
from rag.support import Embed, Window, sentence_windows, support_scores

GAP = " … "
MIN_WORDS = 3  # a sentence with fewer content words (a heading: "Warranty Overview") is not evidence


@dataclass(frozen=True)
class Selected:
    """The passages as the prompt shows them, and the best sentence's support score for the question
    (None: not measured, nothing to refuse on)."""

    passages: list[Passage]
    strength: float | None = None
    best: tuple[int, str] | None = None  # the closest sentence: (source number, text)


def select_evidence(question: str, passages: Sequence[Passage], embed: Embed, limit: int) -> Selected:
    """The passages cut down to their `limit` best sentences overall (0: kept whole), with the strength
    of the evidence (see the module docstring)."""
    sentences = sentence_windows(passages)
    windows = [w for w in sentences if is_evidence(w)] or sentences
    if not windows:
        return Selected(list(passages), 0.0)
    scores = support_scores([question], windows, embed)[0]
    order = sorted(range(len(windows)), key=lambda i: -scores[i])
    strength, best = float(scores[order[0]]), (windows[order[0]].rank, windows[order[0]].text)
    if limit <= 0:
        return Selected(list(passages), strength, best)
    kept = sorted(order[:limit], key=lambda i: windows[i].parts)
    by_rank: dict[int, list[str]] = {}
    for index in kept:
        by_rank.setdefault(windows[index].rank, []).append(windows[index].text)
    shown = [replace(p, text=GAP.join(by_rank[p.rank])) for p in passages if p.rank in by_rank]
    return Selected(shown, strength, best)


def is_evidence(sentence: Window) -> bool:
    """Whether a sentence can be evidence: at least `MIN_WORDS` content words (a heading cannot)."""
    return len(content_words(sentence.text)) >= MIN_WORDS


class MemoEmbed:
    """An embedding function that remembers the vectors of recent texts: the sentences embedded to choose
    the evidence are embedded again by the support check after the answer."""

    def __init__(self, embed: Callable[[list[str]], list[list[float]]], size: int = 4096) -> None:
        self.embed = embed
        self.size = size
        self.vectors: dict[str, list[float]] = {}

    def __call__(self, texts: list[str]) -> list[list[float]]:
        missing = list(dict.fromkeys(t for t in texts if t not in self.vectors))
        if missing:
            if len(self.vectors) + len(missing) > self.size:
                self.vectors.clear()
            self.vectors.update(zip(missing, self.embed(missing), strict=True))
        return [self.vectors[t] for t in texts]
