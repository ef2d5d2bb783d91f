import pytest

from rag.fusion import fuse, reciprocal_rank_fusion, score_fusion


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


def test_score_fusion_rescales_each_ranking():
    dense = [("a", 0.75), ("b", 0.5), ("c", 0.25)]  # rescaled: a 1, b 0.5, c 0
    lexical = [("c", 12.0), ("d", 4.0)]  # rescaled: c 1, d 0
    fused = score_fusion([dense, lexical], [1.0, 1.0])
    assert fused == [("a", 1.0), ("c", 1.0), ("b", 0.5), ("d", 0.0)]
    assert score_fusion([dense, lexical], [1.0, 2.0])[0] == ("c", 2.0)
    assert score_fusion([[("x", 3.0)], []], [1.0, 1.0]) == [("x", 1.0)]


def test_fuse_dispatches_by_method():
    rankings = [[("a", 0.9), ("b", 0.1)], [("b", 5.0), ("c", 1.0)]]
    assert [c for c, _ in fuse("rrf", rankings, [1.0, 1.0], 60)] == ["b", "a", "c"]
    assert [c for c, _ in fuse("scores", rankings, [1.0, 1.0], 60)] == ["a", "b", "c"]
