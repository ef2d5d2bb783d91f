"""The support check with the real embedding model: which source span supports each answer sentence."""

import pytest

from rag.citations import strip_references
from rag.passages import Passage
from rag.support import check_answer


def passage(rank: int, text: str) -> Passage:
    return Passage(rank, "f.txt", "/f.txt", None, "", f"c{rank}", 0.5, text)


SOURCES = [
    passage(
        1,
        "The Nimbus K2 needs regular care. Descale every 8 weeks with citric acid, or every 4 weeks above "
        "180 ppm. Rinse the tank afterwards.",
    ),
    passage(2, "Spare parts are listed below.\nThe group gasket LK-GSK-58 costs 9.50 euro."),
]


@pytest.fixture
def check(real_embeddings):
    return lambda answer: check_answer(answer, SOURCES, real_embeddings.embed_documents)


def test_a_right_citation_is_kept_and_its_span_found(check):
    checked = check("You should descale every 4 weeks when the water is above 180 ppm [1].")
    (sentence,) = checked.sentences
    assert sentence.supported and sentence.cited == (1,) and sentence.model_cited == (1,)
    span = SOURCES[0].text[sentence.evidence[0].start : sentence.evidence[0].end]
    assert "every 4 weeks above 180 ppm" in span and "needs regular care" not in span and "Rinse" not in span


def test_a_wrong_citation_is_moved_to_the_supporting_source(check):
    checked = check("The group gasket costs 9.50 euro [1].")
    assert checked.sentences[0].cited == (2,) and checked.sentences[0].model_cited == (1,)
    assert checked.text == "The group gasket costs 9.50 euro. [2]" and checked.cited == [2]


def test_an_uncited_sentence_gets_its_source(check):
    assert check("The gasket LK-GSK-58 costs 9.50 euro.").text == "The gasket LK-GSK-58 costs 9.50 euro. [2]"


def test_an_unsupported_claim_loses_its_citation_and_is_marked(check):
    checked = check(
        "Descale every 8 weeks [1]. The gasket costs about 120 dollars [2]. Bananas are yellow [1]."
    )
    supported = [s.supported for s in checked.sentences]
    assert supported == [True, False, False]
    assert [s.text for s in checked.unsupported] == [
        "The gasket costs about 120 dollars.",
        "Bananas are yellow.",
    ]
    assert (
        checked.text == "Descale every 8 weeks. [1] The gasket costs about 120 dollars. Bananas are yellow."
    )
    assert checked.cited == [1]
    assert checked.sentences[1].to_json() == {
        "text": "The gasket costs about 120 dollars.",
        "supported": False,
        "cited": [],
        "model_cited": [2],
        "evidence": [],
    }


def test_a_number_the_source_does_not_state_is_never_supported(check):
    assert not check("Descale every 6 weeks with citric acid [1].").sentences[0].supported


def test_tiny_sentences_are_not_claims_and_line_breaks_survive(check):
    checked = check("Yes [2].\n- Descale every 4 weeks above 180 ppm.\n- Ok.")
    assert [s.claim for s in checked.sentences] == [False, True, False]
    assert checked.text == "Yes. [2]\n- Descale every 4 weeks above 180 ppm. [1]\n- Ok."
    assert checked.unsupported == []


def test_a_claim_resting_on_two_neighbouring_sentences_spans_both(check):
    checked = check("Descale every 8 weeks with citric acid and rinse the tank afterwards [1].")
    best = checked.sentences[0].evidence[0]
    assert SOURCES[0].text[best.start : best.end].endswith("Rinse the tank afterwards.")
    assert "Descale" in SOURCES[0].text[best.start : best.end]


def test_no_sources_leaves_every_claim_unsupported(real_embeddings):
    checked = check_answer("The gasket costs 9.50 euro [1].", [], real_embeddings.embed_documents)
    assert checked.cited == [] and len(checked.unsupported) == 1


def test_a_pdf_sentence_wrapped_over_lines_is_one_span(real_embeddings):
    text = (
        "Warranty Overview\n"
        "Your K2 has a two-year limited warranty. The warranty period starts on the date of\n"
        "purchase printed on your receipt, not on the date you first switch the machine on. During\n"
        "these two years we will repair or replace any covered component that fails."
    )
    pdf = Passage(1, "w.pdf", "/docs/w.pdf", 1, "", "c1", 0.5, text)
    checked = check_answer(
        "The warranty period starts on the date of purchase on your receipt [1].",
        [pdf],
        real_embeddings.embed_documents,
    )
    best = checked.sentences[0].evidence[0]
    assert text[best.start : best.end].startswith("The warranty period starts")
    assert text[best.start : best.end].endswith("switch the machine on.")


def test_a_quantity_the_source_gives_another_number_is_not_supported(real_embeddings):
    text = "During these two years we repair any part. The warranty covers three systems of the machine."
    source = Passage(1, "w.txt", "/docs/w.txt", None, "", "c1", 0.5, text)
    embed = real_embeddings.embed_documents
    wrong = check_answer("The warranty lasts for three years [1].", [source], embed)
    right = check_answer("The warranty lasts for two years and covers three systems [1].", [source], embed)
    assert not wrong.sentences[0].supported
    assert right.sentences[0].supported and right.cited == [1]


def test_a_number_that_ends_a_name_is_not_a_quantity(real_embeddings):
    text = "The trial conducted in the United States in 2017 demonstrated SAB-301 to be safe at single doses."
    source = Passage(1, "t.txt", "/docs/t.txt", None, "", "c1", 0.5, text)

    def check(answer: str):
        return check_answer(answer, [source], real_embeddings.embed_documents)

    named = check("The trial on SAB-301 demonstrated it to be safe at single doses [1].")
    counted = check("The trial in 2016 demonstrated it to be safe at single doses [1].")
    assert named.sentences[0].supported and named.cited == [1]  # "301 demonstrated" is no count of 2017's
    assert not counted.sentences[0].supported  # a year the source does not give


def test_a_sources_own_references_are_not_numbers_it_states(real_embeddings):
    text = (
        "A group in London posted a report on 22 January 2020 [26] that estimated 4000 cases [5-7]. "
        "Other estimates followed."
    )
    source = Passage(1, "e.txt", "/docs/e.txt", None, "", "c1", 0.5, text)
    verbatim = check_answer(
        strip_references(text.split(". ")[0]) + ". [1]", [source], real_embeddings.embed_documents
    )
    assert verbatim.sentences[0].supported and verbatim.cited == [1]  # "26 that" is no count of 2020's
    assert verbatim.sentences[0].closest > 0.95


def test_a_bracket_in_a_name_stays_in_the_checked_sentence(real_embeddings):
    text = "The most common rotavirus strain in the region carried genotype P[8]-type in 2019."
    source = Passage(1, "r.txt", "/docs/r.txt", None, "", "c1", 0.5, text)
    checked = check_answer(
        "The most common strain carried genotype P[8]-type [1].", [source], real_embeddings.embed_documents
    )
    assert checked.text == "The most common strain carried genotype P[8]-type. [1]"
    assert checked.sentences[0].model_cited == (1,) and checked.sentences[0].supported


def test_words_match_by_stem(check):
    checked = check("The machine should be descaled every 8 weeks [1].")  # below the threshold unstemmed
    assert checked.sentences[0].supported and checked.cited == [1]
