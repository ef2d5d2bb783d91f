"""Dense retrieval: the top-k passages for a question, from the store, as numbered `Passage`s.

This module does not build prompts or call a model.
"""

from __future__ import annotations

from rag.passages import Passage
from rag.store import Store


def retrieve(store: Store, query: str, k: int, where: dict | None = None) -> list[Passage]:
    """The k passages most similar to `query` (cosine), best first, ranked from 1."""
    found = store.search(query, k, where)
    return [Passage.from_document(rank, doc, score) for rank, (doc, score) in enumerate(found, start=1)]
