from rag.citations import (
    cited_numbers,
    content_words,
    leading_markers,
    marker_numbers,
    strip_markers,
    strip_references,
    strip_source_references,
)


def test_cited_numbers():
    assert cited_numbers("A [2]. B [1, 3][2]. C [9] [x]", valid=3) == [2, 1, 3]
    assert cited_numbers("nothing cited", valid=3) == []


def test_marker_numbers_keeps_every_number_and_leading_markers_open_a_sentence():
    assert marker_numbers("A [7]. B [1, 3][7]. P[4]-type `x[5]`") == [7, 1, 3]
    assert leading_markers(" [2]. [3] Parts too.") == " [2]. [3] "
    assert leading_markers("Parts [2].") == leading_markers("[4]-type parts.") == ""


def test_strip_markers():
    assert (
        strip_markers("Descale every 8 weeks [1]. It costs 9.50 [2, 3].")
        == "Descale every 8 weeks. It costs 9.50."
    )


def test_strip_references_removes_markers_and_a_documents_own_references():
    text = "Reported on 22 January 2020 [26] that it found 4000 cases [5-7], [12, 13] and [8–9] [1]."
    assert strip_references(text) == "Reported on 22 January 2020 that it found 4000 cases, and."
    assert strip_references("x = [0, 1] but [a] and [2b] stay") == "x = but [a] and [2b] stay"


def test_strip_source_references_removes_references_after_prose_only():
    text = "Reported on 22 January 2020 [26] that it found cases [5-7], [12, 13] [1]. Then (see [4]) ."
    assert strip_source_references(text) == "Reported on 22 January 2020 that it found cases,. Then (see) ."
    assert strip_source_references("a cause of mortality [46] . Next") == "a cause of mortality. Next"
    kept = "penguin[1] < 8; x = [0, 1]; k ∈ [3, 16]; P[4]-type; a range [0-9]; see [2]: https://a.example"
    assert strip_source_references(kept) == kept


def test_a_bracket_joined_to_the_next_word_or_in_code_is_text():
    answer = "Genotype P[8]-type, as in `arr[2]` [1].\n```\nx = b[3]\n```\nSee [2], not x[0]y."
    assert cited_numbers(answer, valid=5) == [1, 2]
    kept = "Genotype P[8]-type, as in `arr[2]`.\n```\nx = b[3]\n```\nSee, not x[0]y."
    assert strip_references(answer) == kept
    assert strip_markers("Use `a[1]` [2]. Then P[4]-type [1].") == "Use `a[1]`. Then P[4]-type."
    assert cited_numbers("An open fence [1]: ```py\nb[3]", valid=5) == [1]  # still being written


def test_content_words_keep_numbers_and_drop_stopwords():
    assert content_words("The gasket costs 9.50 euro, according to the sources.") == {
        "gasket",
        "costs",
        "9.50",
        "euro",
    }
