"""Raising candidates by their file's match: rescaled scores, weights, ties."""

import pytest

from rag.file_match import rescale, weigh_by_file


def path_of(item: tuple[str, str]) -> str:
    return item[0]


RANKED = [(("a.pdf", "a1"), 1.8), (("b.pdf", "b1"), 1.6), (("a.pdf", "a2"), 0.9), (("c.pdf", "c1"), 0.5)]


def test_a_well_matching_file_lifts_its_passages():
    weighed = weigh_by_file(RANKED, {"a.pdf": 2.0, "b.pdf": 10.0, "c.pdf": 6.0}, 1.0, path_of)
    assert [item[1] for item, _ in weighed] == ["b1", "a1", "c1", "a2"]
    assert [score for _, score in weighed] == pytest.approx([2.6, 1.8, 1.0, 0.9])


def test_a_file_without_the_words_counts_as_the_lowest():
    weighed = weigh_by_file(RANKED, {"c.pdf": 4.0}, 2.0, path_of)
    assert [item[1] for item, _ in weighed] == ["c1", "a1", "b1", "a2"]


def test_no_weight_or_no_difference_keeps_the_ranking():
    assert weigh_by_file(RANKED, {"a.pdf": 3.0, "b.pdf": 1.0}, 0.0, path_of) == RANKED
    assert weigh_by_file(RANKED, {"a.pdf": 2.0, "b.pdf": 2.0, "c.pdf": 2.0}, 1.0, path_of) == RANKED
    assert weigh_by_file([], {"a.pdf": 1.0}, 1.0, path_of) == []


def test_rescale_spans_zero_to_one():
    assert rescale({"a": 2.0, "b": 4.0, "c": 3.0}) == {"a": 0.0, "b": 1.0, "c": 0.5}
    assert rescale({"a": 5.0}) == {"a": 0.0} and rescale({}) == {}
