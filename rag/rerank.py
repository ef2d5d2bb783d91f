"""Sentence rerank: reorder the top fused candidates by how well their best sentence matches the question.

No cross-encoder ships offline (README, "Retrieval quality"). A chunk's embedding and its BM25 score both
average over the whole chunk, while a question is usually answered by one sentence that holds most of its
words. Each of the top `depth` candidates gets its best sentence's word match: the share of the
question's content words (stemmed, numbers as digits) that one sentence holds (`rag.support.word_coverage`;
a sentence that lacks a number of the question scores 0; headings, under `rag.evidence.MIN_WORDS` content
words, are not sentences here). Its new score is

    (1 - weight) * position score + weight * best sentence's word match,

where the position score falls linearly from 1 (first) to 1/depth (last) in the fused ranking, so a
better match must be clearly better to jump a place. Candidates below `depth` keep their order after the
reranked ones. Only words are compared: scoring sentences by embedding as well ranked a little better on
covidqa_dev but costs a model call over ~45 sentences (1-3 s on this machine) per question. Depth and
weight were measured (README, "Retrieval quality"). This module does not search; it only reorders.
"""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.documents import Document

from rag.evidence import is_evidence
from rag.passages import Passage
from rag.support import sentence_windows, word_coverage

Found = tuple[Document, float]  # a chunk and its cosine similarity to the question


def rerank_by_sentences(
    question: str, ranked: Sequence[tuple[Found, float]], depth: int, weight: float
) -> list[tuple[Found, float]]:
    """The ranking's first `depth` (chunk, score) items reordered by their new score (see the module
    docstring), then the rest; every item's score becomes its new score, so that later stages (the file
    penalty) compare like with like."""
    head = ranked[:depth]
    if weight <= 0 or len(head) < 2:
        return list(ranked)
    matches = best_sentence_matches(question, [item for item, _ in head])
    rescored = [
        (item, (1 - weight) * (1 - index / len(head)) + weight * matches.get(index + 1, 0.0))
        for index, (item, _) in enumerate(ranked)
    ]
    return sorted(rescored[: len(head)], key=lambda pair: -pair[1]) + rescored[len(head) :]


def best_sentence_matches(question: str, chunks: Sequence[Found]) -> dict[int, float]:
    """Each chunk's best sentence word match for the question, by the chunk's 1-based position."""
    passages = [Passage.from_document(rank, doc, score) for rank, (doc, score) in enumerate(chunks, start=1)]
    sentences = [window for window in sentence_windows(passages) if is_evidence(window)]
    best: dict[int, float] = {}
    for sentence, match in zip(sentences, word_coverage(question, [s.text for s in sentences]), strict=True):
        best[sentence.rank] = max(best.get(sentence.rank, 0.0), match)
    return best
