"""Source display: escaping, which passage sentences an answer rests on, PDF pages with the passage boxed."""

import io
import re
from dataclasses import replace
from pathlib import Path

from PIL import Image

from rag.prompts import NOT_FOUND
from ui.sources import (
    UNSUPPORTED_NOTE,
    Source,
    answer_markdown,
    checked_markdown,
    claims_for,
    escape_text,
    evidence_spans,
    find_span,
    highlight_spans,
    is_not_found,
    marked_html,
    marks_for,
    render_pdf_page,
    split_cited,
    supported_spans,
    surrounding_text,
)

DATA = Path(__file__).resolve().parent.parent / "data"


def test_escape_text_leaves_nothing_for_html_or_markdown_to_interpret():
    hostile = "<script>alert(1)</script> **bold** [link](http://x) $x$ `code` # title\nnext"
    escaped = escape_text(hostile)
    for raw in ("<script", "**", "[link]", "(http", "$", "`", "# "):
        assert raw not in escaped
    assert "&#60;script&#62;" in escaped and escaped.count("<br>") == 1


def test_answer_markdown_shows_dollars_tags_links_and_images_literally():
    assert answer_markdown("It costs $14.90 <b>now</b> [1]") == "It costs \\$14.90 &lt;b>now&lt;/b> \\[1\\]"
    hostile = answer_markdown("See ![x](http://evil.example/t.png?q=secret) and [here](http://evil.example)")
    assert re.search(r"(?<!\\)[\[\]]", hostile) is None  # every bracket escaped: no link, no image


def test_claims_for_picks_the_sentences_citing_a_source():
    answer = "The warranty lasts two years [1]. Descale monthly [2]. Both apply [1, 2]."
    assert claims_for(answer, 1) == ["The warranty lasts two years.", "Both apply."]
    assert claims_for(answer, 3) == []
    assert claims_for("It lasts two years. [2] Parts too.", 2) == ["It lasts two years."]


def test_claims_for_reads_brackets_in_names_and_code_as_text():
    answer = "P[4]-type pumps fail first [2]. Call `pump[1]` to reset."
    assert claims_for(answer, 2) == ["P[4]-type pumps fail first."]
    assert claims_for(answer, 4) == claims_for(answer, 1) == []


def test_supported_spans_mark_the_matching_sentence():
    passage = "Shipping is free. The warranty covers the pump for two years. Call us anytime."
    spans = supported_spans(passage, ["The warranty covers the pump for two years."])
    assert [passage[a:b] for a, b in spans] == ["The warranty covers the pump for two years."]
    html = marked_html(passage, spans)
    assert "<mark>The warranty covers the pump for two years&#46;</mark>" in html
    assert html.startswith('<div class="askdocs-passage">') and "\n" not in html


def test_a_long_source_sentence_is_marked_when_it_holds_the_claim():
    passage = (
        "The warranty covers the pump. Accessories that ship in the box, such as the portafilter, the "
        "baskets and the jug, are covered for a shorter period of six months from the date of purchase."
    )
    spans = supported_spans(passage, ["The warranty lasts for six months from the date of purchase."])
    assert [passage[a:b][:11] for a, b in spans] == ["Accessories"]


def test_sentences_end_at_punctuation_and_a_space_not_inside_numbers():
    passage = "price_eur: 14.90; models: K2\nprice_eur: 9.50; models: K2 Pro"
    spans = supported_spans(passage, ["The screen costs 14.90 for the K2 models"])
    assert [passage[a:b] for a, b in spans] == ["price_eur: 14.90; models: K2"]


def test_pdf_passages_are_shown_as_running_text():
    wrapped = (
        "The warranty covers the pump, the boiler\ntogether with its heating element.\n\nNext paragraph."
    )
    pdf = Source(1, "w.pdf", "/w.pdf", 1, "", 0.5, wrapped, True)
    assert pdf.display_text == (
        "The warranty covers the pump, the boiler together with its heating element.\n\nNext paragraph."
    )
    assert marks_for(pdf, "It covers the pump and the boiler with its heating element [1].") == [
        "The warranty covers the pump, the boiler together with its heating element."
    ]
    assert Source(1, "w.txt", "/w.txt", None, "", 0.5, wrapped, True).display_text == wrapped


def test_split_cited_keeps_order():
    def source(n, cited):
        return Source(n, "f.txt", "/f.txt", None, "", 0.5, "t", cited)

    cited, also = split_cited([source(1, False), source(2, True), source(3, False)])
    assert [s.n for s in cited] == [2] and [s.n for s in also] == [1, 3]


def test_find_span_ignores_whitespace_and_case():
    haystack = "Line one ends\r\nhere.  The   Warranty\ncovers parts."
    start, end = find_span(haystack, "the warranty covers parts.")
    assert haystack[start:end] == "The   Warranty\ncovers parts."
    assert find_span(haystack, "not there") is None


def test_render_pdf_page_boxes_the_passage():
    from ingest.loaders import load_pdf

    page = load_pdf(DATA / "warranty.pdf")[0]
    sentence = page.text.strip().splitlines()[0]
    plain = Image.open(io.BytesIO(render_pdf_page(DATA / "warranty.pdf", page.page, [])))
    marked = Image.open(io.BytesIO(render_pdf_page(DATA / "warranty.pdf", page.page, [sentence])))
    assert plain.size == marked.size and plain.size[0] > 500
    assert plain.tobytes() != marked.tobytes()
    orange = (220, 120, 0)
    assert orange in {marked.getpixel((x, y)) for x in range(0, marked.size[0], 2) for y in range(0, 400, 2)}


def test_marks_for_falls_back_to_the_whole_passage():
    source = Source(1, "f.pdf", "/f.pdf", 1, "", 0.5, "Alpha beta gamma delta.", True)
    assert marks_for(source, "Unrelated words entirely [1].") == ["Alpha beta gamma delta."]


def test_surrounding_text_is_the_section_the_passage_came_from():
    text = surrounding_text(DATA / "setup-guide.md", "descal", None, "")
    assert text is not None and len(text) > 20
    assert surrounding_text(DATA / "missing.md", "x", None, "") is None


WRAPPED = "Shipping is free.\nThe warranty covers the pump\nfor two years. Call us anytime."


def sentence(
    text: str, cited: list[int], evidence: list[tuple[int, int, int]], supported: bool = True
) -> dict:
    return {
        "text": text,
        "supported": supported,
        "cited": cited,
        "model_cited": cited,
        "evidence": [{"n": n, "start": a, "end": b, "score": 0.7} for n, a, b in evidence],
    }


def test_stored_evidence_is_highlighted_as_checked_not_re_derived():
    start = WRAPPED.index("The warranty")
    sentences = [
        sentence("It covers the pump for two years.", [2], [(2, start, start + 43), (1, 0, 17)]),
        sentence("Shipping costs nothing.", [1], [(2, 0, 17)]),  # cites 1: its evidence in 2 is not shown
    ]
    pdf = Source(2, "w.pdf", "/w.pdf", 1, "", 0.5, WRAPPED, True)
    spans = highlight_spans(pdf, "unused: the stored sentences are used", sentences)
    assert [pdf.display_text[a:b] for a, b in spans] == ["The warranty covers the pump for two years."]
    assert marks_for(pdf, "", sentences) == ["The warranty covers the pump for two years."]
    uncited = Source(3, "w.pdf", "/w.pdf", 1, "", 0.5, WRAPPED, False)
    assert highlight_spans(uncited, "", sentences) == [] and marks_for(uncited, "", sentences) == [
        uncited.display_text
    ]


def test_an_older_turn_without_sentences_falls_back_to_the_word_heuristic():
    pdf = Source(1, "w.pdf", "/w.pdf", 1, "", 0.5, WRAPPED, True)
    spans = highlight_spans(pdf, "The warranty covers the pump for two years [1].", [])
    assert [pdf.display_text[a:b] for a, b in spans] == ["The warranty covers the pump for two years."]
    assert highlight_spans(replace(pdf, cited=False), "The warranty covers the pump [1].", []) == []


def test_evidence_spans_merge_overlaps_and_ignore_spans_outside_the_text():
    sentences = [
        sentence("A b c.", [1], [(1, 0, 10), (1, 40, 99)]),
        sentence("D e f.", [1, 2], [(1, 5, 20), (2, 0, 4)]),
        sentence("G h i.", [1], [(1, 30, 35)]),
    ]
    assert evidence_spans(sentences, 1, 50) == [(0, 20), (30, 35)]
    assert evidence_spans(sentences, 2, 50) == [(0, 4)]
    assert evidence_spans(sentences, 3, 50) == []


def test_unsupported_claims_are_flagged_and_everything_stays_escaped():
    answer = "The pump is covered. [1] See ![x](http://evil.example/t.png) and $5. Parts too. [1]"
    sentences = [
        sentence("The pump is covered.", [1], [(1, 0, 9)]),
        sentence("See ![x](http://evil.example/t.png) and $5.", [], [], supported=False),
        sentence("Parts too.", [1], []),
    ]
    shown = checked_markdown(answer, sentences)
    assert shown == (
        "The pump is covered. \\[1\\] See !\\[x\\](http://evil.example/t.png) and \\$5. "
        f"{UNSUPPORTED_NOTE} Parts too. \\[1\\]"
    )
    assert re.search(r"(?<!\\)[\[\]]", shown.replace(UNSUPPORTED_NOTE, "")) is None
    assert checked_markdown(answer, []) == answer_markdown(answer)


def test_the_not_found_reply_is_recognised():
    assert is_not_found(NOT_FOUND) and not is_not_found("The pump is covered. [1]")
