import pytest

from rag.fusion import reciprocal_rank_fusion


def test_items_in_both_rankings_rise():
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["c", "d"]], [1.0, 1.0], rrf_k=60)
    assert [chunk_id for chunk_id, _ in fused] == ["c", "a", "b", "d"]
    assert fused[0][1] == pytest.approx(1 / 63 + 1 / 61)


def test_weights_and_ties():
    fused = reciprocal_rank_fusion([["a"], ["b"]], [1.0, 2.0], rrf_k=10)
    assert fused == [("b", pytest.approx(2 / 11)), ("a", pytest.approx(1 / 11))]
    tied = reciprocal_rank_fusion([["a"], ["b"]], [1.0, 1.0], rrf_k=10)
    assert [chunk_id for chunk_id, _ in tied] == ["a", "b"]  # first seen first
    assert reciprocal_rank_fusion([["a"], ["b"]], [1.0, 0.0])[-1] == ("b", 0.0)
