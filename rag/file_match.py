"""File match: each fused candidate's score raised by how well its whole file matches the question.

A chunk's embedding and its BM25 score see only the chunk, but a question often names what the whole
file is about ("Intel's Q2 2023 10-Q", "the outbreak in Wuhan") while the passage that answers it never
repeats the name ("our gross margin fell ..."), so passages from other files that share the topic's
words rank above it. Each candidate file gets its BM25 score for the question over its whole text
(`rag.lexical.LexicalIndex.file_scores`), rescaled to 0..1 over the candidates' files (min-max, as score
fusion rescales each ranking; a file holding none of the words gets 0), and every candidate's score
rises by `weight` x its file's. The weight was measured (README, "Retrieval quality"). This module does
not search; it only rescores and reorders.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

Item = TypeVar("Item")


def weigh_by_file(
    ranked: Sequence[tuple[Item, float]],
    file_scores: Mapping[str, float],
    weight: float,
    path_of: Callable[[Item], str],
) -> list[tuple[Item, float]]:
    """The (item, score) ranking with each score raised by `weight` x its file's rescaled match, best
    first (ties keep their order)."""
    rescaled = rescale({path_of(item): file_scores.get(path_of(item), 0.0) for item, _ in ranked})
    rescored = [(item, score + weight * rescaled[path_of(item)]) for item, score in ranked]
    return sorted(rescored, key=lambda pair: -pair[1])


def rescale(scores: Mapping[str, float]) -> dict[str, float]:
    """Scores min-max rescaled to 0..1; all 0 when they are all equal (no file stands out)."""
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    spread = high - low
    return {key: (value - low) / spread if spread > 0 else 0.0 for key, value in scores.items()}
