from rag.diversity import cap_per_file, penalise_repeats


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


def test_penalty_lets_a_close_passage_from_another_file_in():
    ranked = [("a1", 1.0), ("a2", 0.9), ("b1", 0.75), ("a3", 0.7), ("c1", 0.2)]
    assert [i for i, _ in penalise_repeats(ranked, 3, 0.0, file_of)] == ["a1", "a2", "b1"]
    assert [i for i, _ in penalise_repeats(ranked, 3, 0.2, file_of)] == ["a1", "b1", "a2"]
    # a3 (0.7 - 2*0.2) still beats c1 (0.2): the penalty is a margin, not a cap
    assert [i for i, _ in penalise_repeats(ranked, 5, 0.2, file_of)] == ["a1", "b1", "a2", "a3", "c1"]
    assert [i for i, _ in penalise_repeats(ranked, 4, 0.5, file_of)] == ["a1", "b1", "a2", "c1"]
