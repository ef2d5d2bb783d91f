"""The sentence rerank: the top candidates reordered by their best sentence's word match."""

import pytest
from langchain_core.documents import Document

from rag.rerank import best_sentence_matches, rerank_by_sentences

QUESTION = "How many days does the incubation period of the virus last?"


def chunk(name: str, text: str, path: str = "notes.txt") -> tuple[Document, float]:
    return Document(id=name, page_content=text, metadata={"path": path, "file": path}), 0.5


def ids(ranked) -> list[str]:
    return [item[0].id for item, _ in ranked]


def fused(*chunks) -> list:
    """Chunks in fused order, with falling fused scores."""
    return [(item, 1.0 - i / 10) for i, item in enumerate(chunks)]


TOPICAL = chunk("topical", "The virus spreads in households. Masks reduce the spread of the virus a lot.")
ANSWER = chunk(
    "answer",
    "Cases were traced in March. The incubation period of the virus lasts many days, five on average.",
)
OTHER = chunk("other", "Hospital beds were scarce during the first wave of infections.")


def test_a_candidate_whose_sentence_holds_the_question_moves_up():
    ranked = rerank_by_sentences(QUESTION, fused(TOPICAL, OTHER, ANSWER), depth=3, weight=0.5)
    assert ids(ranked) == ["answer", "topical", "other"]
    assert [score for _, score in ranked] == sorted((score for _, score in ranked), reverse=True)


def test_a_small_weight_only_breaks_near_ties():
    far_down = fused(
        TOPICAL, OTHER, *(chunk(f"filler{i}", "Nothing about it here at all.") for i in range(7))
    )
    ranked = rerank_by_sentences(QUESTION, [*far_down, (ANSWER, 0.0)], depth=10, weight=0.1)
    assert ids(ranked)[0] == "topical" and ids(ranked).index("answer") == 8  # up one place, no more


def test_weight_zero_and_candidates_below_the_depth_keep_their_order():
    order = fused(TOPICAL, OTHER, ANSWER)
    assert ids(rerank_by_sentences(QUESTION, order, depth=3, weight=0.0)) == ["topical", "other", "answer"]
    ranked = rerank_by_sentences(
        QUESTION,
        fused(OTHER, TOPICAL, ANSWER, chunk("late", "The incubation period of the virus lasts five days.")),
        depth=3,
        weight=0.9,
    )
    assert ids(ranked) == ["answer", "topical", "other", "late"]
    assert ranked[-1][1] < min(score for _, score in ranked[:3])


def test_the_match_is_one_sentence_not_the_whole_chunk():
    words_spread_out = (
        "The incubation of measles was studied closely. The period of study was long indeed. "
        "The virus was new to everyone there. Days passed slowly for the team."
    )
    spread = chunk("spread", words_spread_out)
    matches = best_sentence_matches(QUESTION, [spread, ANSWER])
    assert matches[2] == pytest.approx(1.0)
    assert matches[1] == pytest.approx(1 / 6)


def test_headings_and_missing_numbers_do_not_match():
    heading = chunk("heading", "Incubation Period Virus\nSomething unrelated is said here in full.")
    numbers = chunk("numbers", "The incubation period lasted 14 days in most patients with the virus.")
    matches = best_sentence_matches("Did the incubation period of the virus last 5 days?", [heading, numbers])
    assert matches[1] < 0.3
    assert matches[2] == 0.0
