"""Fuse several rankings of the same chunks into one: weighted score fusion or reciprocal rank fusion.

Score fusion (`scores`) rescales each ranking's scores to 0..1 (min-max over the candidates it
returned; a lone candidate gets 1) and adds them with the rankings' weights; a chunk missing from a
ranking gets 0 from it. Cosine similarities and BM25 scores live on different scales, and the rescaling
puts them on one while keeping how far apart the candidates are. Reciprocal rank fusion (`rrf`) sums
`weight / (rrf_k + rank)` and ignores the scores altogether. This module does not search or fetch chunks.
"""

from __future__ import annotations

from collections.abc import Sequence

Scored = Sequence[tuple[str, float]]


def fuse(
    method: str, rankings: Sequence[Scored], weights: Sequence[float], rrf_k: float
) -> list[tuple[str, float]]:
    """(chunk id, fused score) pairs, best first, by `method` ('scores' or 'rrf')."""
    if method == "rrf":
        return reciprocal_rank_fusion([[chunk_id for chunk_id, _ in r] for r in rankings], weights, rrf_k)
    return score_fusion(rankings, weights)


def score_fusion(rankings: Sequence[Scored], weights: Sequence[float]) -> list[tuple[str, float]]:
    """Weighted sum of min-max rescaled scores; ties keep the order in which ids were first seen."""
    fused: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for chunk_id, scaled in _min_max(ranking):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + weight * scaled
    return sorted(fused.items(), key=lambda item: item[1], reverse=True)


def _min_max(ranking: Scored) -> list[tuple[str, float]]:
    if not ranking:
        return []
    low = min(score for _, score in ranking)
    spread = max(score for _, score in ranking) - low
    return [(chunk_id, (score - low) / spread if spread > 0 else 1.0) for chunk_id, score in ranking]


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[str]], weights: Sequence[float], rrf_k: float = 60.0
) -> list[tuple[str, float]]:
    """(chunk id, fused score) pairs, best first; ties keep the order in which ids were first seen."""
    scores: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, chunk_id in enumerate(ranking, start=1):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + weight / (rrf_k + rank)
    return sorted(scores.items(), key=lambda item: item[1], reverse=True)
