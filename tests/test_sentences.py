"""Sentence cutting, with offsets: answers, plain text and wrapped PDF lines."""

from rag.sentences import sentence_spans


def test_sentence_spans_keep_offsets_and_markers():
    text = "First one.  Second [1]. Third.[2]\n| a | b |\nEnd? yes"
    spans = sentence_spans(text)
    assert [s.text for s in spans] == ["First one.", "Second [1].", "Third.[2]", "| a | b |", "End?", "yes"]
    assert all(text[s.start : s.end] == s.text for s in spans)
    assert [s.text for s in sentence_spans("It costs 9.50 euro. [2] Next.")] == [
        "It costs 9.50 euro. [2]",
        "Next.",
    ]


def test_wrapped_pdf_lines_join_into_sentences_and_headings_stay_apart():
    text = (
        "Warranty Overview\n"
        "Your machine has a two-year limited warranty. The warranty period starts on the date of\n"
        "purchase printed on your receipt, not on the day you first switch\n"
        "the machine on or unpack it.\n"
        "Accessories that ship in the box are covered for six months.\n"
        "- descale monthly\n"
        "Contact Larkspur Appliances in Mechelen for warranty claims, repairs and spare parts, or any\n"
        "Authorised Retailer near you"
    )
    spans = sentence_spans(text, wrapped=True)
    assert [s.text[:30] for s in spans] == [
        "Warranty Overview",
        "Your machine has a two-year li",
        "The warranty period starts on ",
        "Accessories that ship in the b",
        "- descale monthly",
        "Contact Larkspur Appliances in",
    ]
    assert spans[2].text.endswith(
        "printed on your receipt, not on the day you first switch the machine on or unpack it."
    )
    assert spans[-1].text.endswith("or any Authorised Retailer near you")
    assert all(text[s.start : s.end].replace("\n", " ") == s.text for s in spans)


def test_unwrapped_text_breaks_at_every_line():
    rows = (
        "part_number: LK-GSK-58; name: Group gasket 58 mm; price_eur: 9.50; compatible_models: Nimbus K2\n"
        * 2
    )
    assert len(sentence_spans(rows)) == 2
