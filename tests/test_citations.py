from rag.citations import attribute_citations, best_support, cited_numbers
from rag.passages import Passage


def passage(rank: int, text: str) -> Passage:
    return Passage(rank, "f.txt", "/f.txt", None, "", f"c{rank}", 0.5, text)


SOURCES = [
    passage(1, "Descale every 8 weeks with citric acid, or every 4 weeks above 180 ppm."),
    passage(2, "The group gasket LK-GSK-58 costs 9.50 euro."),
]


def test_cited_numbers():
    assert cited_numbers("A [2]. B [1, 3][2]. C [9] [x]", valid=3) == [2, 1, 3]
    assert cited_numbers("nothing cited", valid=3) == []


def test_supported_sentence_gets_its_source():
    assert best_support("You should descale every 4 weeks above 180 ppm.", SOURCES) == 1
    assert best_support("The gasket costs 9.50 euro.", SOURCES) == 2


def test_unsupported_or_tiny_sentences_stay_uncited():
    assert best_support("The gasket costs about $120.", SOURCES) is None
    assert best_support("Yes.", SOURCES) is None


def test_existing_markers_are_kept_and_others_added():
    text = "Descale every 4 weeks with hard water [1]. The gasket costs 9.50 euro. It is blue."
    assert attribute_citations(text, SOURCES) == (
        "Descale every 4 weeks with hard water [1]. The gasket costs 9.50 euro. [2] It is blue."
    )


def test_line_breaks_of_lists_survive():
    text = "Two facts:\n- Descale every 4 weeks above 180 ppm.\n- Bananas."
    assert (
        attribute_citations(text, SOURCES)
        == "Two facts:\n- Descale every 4 weeks above 180 ppm. [1]\n- Bananas."
    )
