from rag.citations import cited_numbers, content_words, strip_markers


def test_cited_numbers():
    assert cited_numbers("A [2]. B [1, 3][2]. C [9] [x]", valid=3) == [2, 1, 3]
    assert cited_numbers("nothing cited", valid=3) == []


def test_strip_markers():
    assert (
        strip_markers("Descale every 8 weeks [1]. It costs 9.50 [2, 3].")
        == "Descale every 8 weeks. It costs 9.50."
    )


def test_content_words_keep_numbers_and_drop_stopwords():
    assert content_words("The gasket costs 9.50 euro, according to the sources.") == {
        "gasket",
        "costs",
        "9.50",
        "euro",
    }
