"""Dense retrieval: the top-k passages for a question, from the store, as numbered `Passage`s; and
reciprocal rank fusion of several ranked lists (one question searched in more than one wording).

This module does not build prompts or call a model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from rag.passages import Passage
from rag.store import Store

RRF_K = 60  # the usual damping constant of reciprocal rank fusion


def retrieve(store: Store, query: str, k: int, where: dict | None = None) -> list[Passage]:
    """The k passages most similar to `query` (cosine), best first, ranked from 1."""
    found = store.search(query, k, where)
    return [Passage.from_document(rank, doc, score) for rank, (doc, score) in enumerate(found, start=1)]


def fuse_ranked(rankings: Sequence[list[Passage]], k: int) -> list[Passage]:
    """The k passages with the best summed reciprocal rank over `rankings`, renumbered from 1."""
    scores: dict[str, float] = {}
    passages: dict[str, Passage] = {}
    for ranking in rankings:
        for position, passage in enumerate(ranking, start=1):
            scores[passage.chunk_id] = scores.get(passage.chunk_id, 0.0) + 1.0 / (RRF_K + position)
            best = passages.get(passage.chunk_id)
            passages[passage.chunk_id] = passage if best is None or passage.score > best.score else best
    ordered = sorted(scores, key=lambda chunk_id: -scores[chunk_id])[:k]
    return [replace(passages[chunk_id], rank=rank) for rank, chunk_id in enumerate(ordered, start=1)]
