"""Fuse several rankings of the same chunks into one: weighted reciprocal rank fusion.

A chunk's fused score is the sum over rankings of `weight / (rrf_k + rank)`, ranks counted from 1; a chunk
missing from a ranking gets nothing from it. Rank-based, so the dense (cosine) and lexical (BM25) scores
need no calibration against each other. This module does not search or fetch chunks.
"""

from __future__ import annotations

from collections.abc import Sequence


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[str]], weights: Sequence[float], rrf_k: float = 60.0
) -> list[tuple[str, float]]:
    """(chunk id, fused score) pairs, best first; ties keep the order in which ids were first seen."""
    scores: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, chunk_id in enumerate(ranking, start=1):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + weight / (rrf_k + rank)
    return sorted(scores.items(), key=lambda item: item[1], reverse=True)
