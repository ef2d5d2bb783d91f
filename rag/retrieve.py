"""Retrieval: the top-k passages for a question, from the store, as numbered `Passage`s.

Stages, each timed: dense (embed the question, nearest chunks in Chroma), lexical (BM25 in the lexical
index), fusion (of the two rankings, see `rag.fusion`), file match (each candidate raised by how well
its whole file matches the question, see `rag.file_match`), rerank (the top candidates reordered by their
best-matching sentence, see `rag.rerank`), diversity (a penalty on passages from a file already chosen,
and an optional per-file cap; see `rag.diversity`). Settings switch the lexical, file match, rerank
and diversity stages off. Every passage's score is its cosine similarity to the question, whichever
stage found it, so scores mean the same thing with or without fusion, and one threshold on the best of
them (`min_score`) says when the evidence is too weak to answer from. An optional list of file paths
restricts every stage to those files. This module does not build prompts or call a model.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from langchain_core.documents import Document

from rag.diversity import cap_per_file, penalise_repeats
from rag.file_match import weigh_by_file
from rag.fusion import fuse
from rag.passages import Passage, best_score
from rag.rerank import rerank_by_sentences
from rag.settings import RetrievalSettings
from rag.store import Store

Found = tuple[Document, float]


@dataclass
class Retrieval:
    """The passages, how long each stage took (milliseconds), and whether the evidence is weak: no
    passage's cosine similarity reaches `min_score`, so the answer is probably not in the documents."""

    passages: list[Passage]
    timings_ms: dict[str, float] = field(default_factory=dict)
    weak_evidence: bool = False


def retrieve(
    store: Store,
    query: str,
    k: int,
    paths: Sequence[str] | None = None,
    options: RetrievalSettings | None = None,
) -> list[Passage]:
    """The k best passages for `query`, ranked from 1 (see the module docstring)."""
    return search(store, query, k, paths, options).passages


def search(
    store: Store,
    query: str,
    k: int,
    paths: Sequence[str] | None = None,
    options: RetrievalSettings | None = None,
) -> Retrieval:
    """Like `retrieve`, with stage timings."""
    options = options or RetrievalSettings()
    timings: dict[str, float] = {}
    if paths is not None and not paths:
        return Retrieval([], timings, weak_evidence=True)
    n = max(k, options.candidates)
    with _timed(timings, "dense"):
        vector = store.embeddings.embed_query(query)
        found = store.search_vector(vector, n, _chroma_where(paths))
    ranked = [(item, item[1]) for item in found]  # (chunk, ranking score): the cosine when dense only
    if options.lexical:
        with _timed(timings, "lexical"):
            lexical = store.lexical.search(query, n, paths)
        with _timed(timings, "fusion"):
            ranked = _fuse(store, vector, found, lexical, options)
    if options.file_weight > 0:
        with _timed(timings, "files"):
            scores = store.lexical.file_scores(query, sorted({_path_of(item) for item, _ in ranked}))
            ranked = weigh_by_file(ranked, scores, options.file_weight, _path_of)
    if options.rerank:
        with _timed(timings, "rerank"):
            ranked = rerank_by_sentences(query, ranked, options.rerank_depth, options.rerank_weight)
    with _timed(timings, "diversity"):
        depth = len(ranked) if options.max_per_file else k  # the cap may need the whole ranking
        ranked = penalise_repeats(ranked, depth, options.file_penalty, _path_of)
        found = cap_per_file([item for item, _ in ranked], k, options.max_per_file, _path_of)
    passages = [Passage.from_document(rank, doc, score) for rank, (doc, score) in enumerate(found, start=1)]
    return Retrieval(passages, timings, weak_evidence=best_score(passages) < options.min_score)


def _fuse(
    store: Store,
    vector: Sequence[float],
    dense: list[Found],
    lexical: list[tuple[str, float]],
    options: RetrievalSettings,
) -> list[tuple[Found, float]]:
    """Dense and lexical rankings fused, with fused scores; chunks only the lexical side found are
    fetched from Chroma."""
    dense_scored = [(str(doc.id), score) for doc, score in dense]
    weights = [1.0, options.lexical_weight]
    fused = fuse(options.fusion, [dense_scored, lexical], weights, options.rrf_k)
    known = {str(doc.id): (doc, score) for doc, score in dense}
    missing = [chunk_id for chunk_id, _ in fused if chunk_id not in known]
    known.update((str(doc.id), (doc, score)) for doc, score in store.get(missing, vector))
    return [(known[chunk_id], score) for chunk_id, score in fused if chunk_id in known]


def _chroma_where(paths: Sequence[str] | None) -> dict | None:
    return None if paths is None else {"path": {"$in": list(paths)}}


def _path_of(found: Found) -> str:
    return str(found[0].metadata.get("path", ""))


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = (time.perf_counter() - start) * 1000
