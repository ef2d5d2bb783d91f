"""Filler openings dropped from whole and streamed answers; openings with content kept."""

import pytest

from rag.openers import drop_filler_opening, strip_filler_opening

CASES = [
    ("Based on the information provided in the sources, the warranty lasts two years [1].", "The warranty"),
    ("According to the first source, descale every 8 weeks [2].", "Descale every"),
    ("According to the sources, in 2008-2009, 400,000 children were infected.", "In 2008-2009, 400,000"),
    ("In the provided text, the pump is red [2].", "The pump is red"),
    ("As stated in the documents, unplug it first.", "Unplug it first"),
    ("According to the California Code of Regulations, report within 1 day [1].", "According to the Cal"),
    ("In 2019, the sources of infection were unknown.", "In 2019, the sources"),
    ("According to source [2], the pump is red.", "According to source [2]"),
    ("From March on, the information desk opens at 9.", "From March on,"),
    ("The warranty lasts two years [1].", "The warranty lasts"),
    ("Based on the sources,", "Based on the sources,"),
]


@pytest.mark.parametrize(("answer", "starts"), CASES)
def test_only_an_opening_about_the_sources_is_dropped(answer, starts):
    assert drop_filler_opening(answer).startswith(starts)
    assert drop_filler_opening(answer).endswith(answer[-12:])


@pytest.mark.parametrize(("answer", "_"), CASES)
def test_the_stream_gives_what_the_whole_answer_gives_however_it_is_cut(answer, _):
    for size in (1, 2, 3, 5, 8, 13, len(answer)):
        pieces = [answer[i : i + size] for i in range(0, len(answer), size)]
        assert "".join(strip_filler_opening(pieces)) == drop_filler_opening(answer)


def test_tokens_pass_at_once_when_the_answer_cannot_open_with_filler():
    tokens = iter(["The", " warranty", " lasts"])
    stream = strip_filler_opening(tokens)
    assert next(stream) == "The" and next(tokens) == " warranty"  # passed on before the next was read


def test_a_possible_opening_is_held_only_until_its_clause_ends():
    given = ["Based", " on", " the", " sources", ",", " the", " pump", " is", " red", "."]
    seen = []
    for piece in strip_filler_opening(iter(given)):
        seen.append(piece)
    assert seen[0] == "The" and seen[1:] == [" pump", " is", " red", "."]
