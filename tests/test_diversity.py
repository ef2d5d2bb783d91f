from rag.diversity import cap_per_file


def file_of(item: str) -> str:
    return item[0]


def test_no_cap_is_the_top_k():
    assert cap_per_file(["a1", "a2", "a3", "b1"], 3, 0, file_of) == ["a1", "a2", "a3"]


def test_cap_skips_a_files_extra_passages_and_keeps_order():
    ranked = ["a1", "a2", "a3", "b1", "a4", "c1", "b2"]
    assert cap_per_file(ranked, 4, 2, file_of) == ["a1", "a2", "b1", "c1"]
    assert cap_per_file(ranked, 2, 1, file_of) == ["a1", "b1"]


def test_too_few_files_fill_up_from_the_skipped_in_rank_order():
    assert cap_per_file(["a1", "a2", "a3", "b1"], 4, 1, file_of) == ["a1", "a2", "a3", "b1"]
    assert cap_per_file(["a1", "a2", "a3", "b1"], 3, 1, file_of) == ["a1", "a2", "b1"]
