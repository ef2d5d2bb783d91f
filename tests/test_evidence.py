"""Evidence selection with the real embedding model: the prompt shows the sentences nearest the question."""

from dataclasses import replace

import pytest

from rag.evidence import GAP, MemoEmbed, question_weights, relevance, select_evidence
from rag.lexical import LexicalIndex
from rag.passages import Passage
from rag.support import sentence_windows


def passage(rank: int, text: str) -> Passage:
    return Passage(rank, "f.txt", "/f.txt", None, "", f"c{rank}", 0.5, text)


SOURCES = [
    passage(1, "The Nimbus K2 needs regular care. Rinse the tank weekly. Wipe the steam wand after use."),
    passage(2, "Spare parts are listed below.\nThe group gasket LK-GSK-58 costs 9.50 euro."),
    passage(3, "Hard water: descale every 4 weeks above 180 ppm. Soft water: every 8 weeks."),
]


def test_the_closest_sentences_are_kept_in_order_with_their_numbers(real_embeddings):
    selected = select_evidence(
        "How often should I descale with hard water?", SOURCES, real_embeddings.embed_documents, 2
    )
    kept = selected.passages
    assert [p.rank for p in kept] == [3]
    assert kept[0].text == f"Hard water: descale every 4 weeks above 180 ppm.{GAP}Soft water: every 8 weeks."
    assert kept[0].file == "f.txt" and kept[0].chunk_id == "c3"
    assert selected.strength > 0.6


def test_a_limit_of_zero_keeps_whole_passages_and_measures_strength(real_embeddings):
    on_topic = select_evidence(
        "How much does the group gasket cost?", SOURCES, real_embeddings.embed_documents, 0
    )
    assert on_topic.passages == SOURCES
    off_topic = select_evidence("Who won the 1998 world cup?", SOURCES, real_embeddings.embed_documents, 0)
    assert off_topic.passages == SOURCES and off_topic.strength < 0.3 < 0.6 < on_topic.strength


def test_one_sentence_from_each_of_two_passages(real_embeddings):
    kept = select_evidence(
        "What does the gasket cost, and how often to rinse the tank?",
        SOURCES,
        real_embeddings.embed_documents,
        2,
    ).passages
    assert [(p.rank, p.text) for p in kept] == [
        (1, "Rinse the tank weekly."),
        (2, "The group gasket LK-GSK-58 costs 9.50 euro."),
    ]


def test_memo_embed_embeds_each_text_once():
    calls: list[list[str]] = []

    def embed(texts: list[str]) -> list[list[float]]:
        calls.append(texts)
        return [[float(len(t)), 1.0] for t in texts]

    memo = MemoEmbed(embed, size=3)
    assert memo(["a", "bb", "a"]) == [[1.0, 1.0], [2.0, 1.0], [1.0, 1.0]]
    assert memo(["bb", "ccc"]) == [[2.0, 1.0], [3.0, 1.0]]
    assert calls == [["a", "bb"], ["ccc"]]
    memo(["dddd"])  # over the size: the memory starts again
    assert calls[-1] == ["dddd"] and len(memo.vectors) == 1


def test_memo_embed_that_fills_up_mid_call_still_returns_every_vector():
    memo = MemoEmbed(lambda texts: [[float(len(t))] for t in texts], size=3)
    memo(["a", "bb"])
    # "a" is remembered, "ccc" and "dddd" are not: the memory overflows and starts again with all three.
    assert memo(["a", "ccc", "dddd"]) == [[1.0], [3.0], [4.0]]
    assert set(memo.vectors) == {"a", "ccc", "dddd"}


def test_memo_embed_embeds_new_texts_shortest_first_in_small_groups():
    calls: list[list[str]] = []

    def embed(texts: list[str]) -> list[list[float]]:
        calls.append(texts)
        return [[float(len(t))] for t in texts]

    texts = ["x" * n for n in (5, 1, 4, 2, 3)]
    assert MemoEmbed(embed, group=2)(texts) == [[5.0], [1.0], [4.0], [2.0], [3.0]]
    assert calls == [["x", "xx"], ["xxx", "xxxx"], ["xxxxx"]]


def test_a_heading_is_not_evidence(real_embeddings):
    text = (
        "Warranty Overview\nYour machine has a two-year limited warranty. Keep your receipt in a safe place."
    )
    selected = select_evidence(
        "How long does the warranty last?", [passage(1, text)], real_embeddings.embed_documents, 1
    )
    assert selected.best == (1, "Your machine has a two-year limited warranty.")
    assert selected.passages[0].text == "Your machine has a two-year limited warranty."


def test_a_sentence_repeated_by_overlapping_chunks_is_shown_once_and_whole(real_embeddings):
    whole = "Descale the machine every 8 weeks with citric acid."
    overlapping = [
        passage(1, "Rinse the tank weekly. Descale the machine every 8 weeks"),  # cut at the chunk's end
        passage(2, f"{whole} Hard water: descale every 4 weeks."),
        passage(3, f"{whole} The descaler is sold in packs of three."),
    ]
    kept = select_evidence(
        "How often should I descale the machine?", overlapping, real_embeddings.embed_documents, 4
    ).passages
    shown = [sentence for p in kept for sentence in p.text.split(GAP)]
    assert whole in shown and "Descale the machine every 8 weeks" not in shown
    assert len(shown) == len(set(shown)) == 2  # the best 4 held the sentence three times; none added


def test_a_sentence_cut_at_a_chunks_edge_is_shown_whole_even_when_only_the_cut_one_is_chosen(real_embeddings):
    whole = (
        "The warranty belongs to the original purchaser and applies to machines bought in the European Union."
    )
    cut = "The warranty belongs to the original purchaser and applies"  # the chunk ended here
    question = "Who does the warranty belong to?"
    passages = [passage(1, f"Keep the receipt. {cut}"), passage(2, f"{whole} Accessories are covered too.")]
    scores = relevance(question, sentence_windows(passages), real_embeddings.embed_documents)
    assert scores[1] > scores[2]  # the cut sentence ranks first: only it is among the best 1
    selected = select_evidence(question, passages, real_embeddings.embed_documents, 1)
    assert [(p.rank, p.text) for p in selected.passages] == [(2, whole)]
    assert selected.best == (2, whole)  # what `--llm extractive` quotes


def test_rare_words_of_the_question_weigh_more_when_rarity_is_given(real_embeddings):
    windows = sentence_windows([passage(1, "The gasket of the machine wears out. The machine is black.")])
    question = "When does the machine gasket wear out?"
    even = relevance(question, windows, real_embeddings.embed_documents)
    weighted = relevance(
        question, windows, real_embeddings.embed_documents, lambda words: {"gasket": 5.0, "machine": 0.1}
    )
    # the second sentence holds only "machine", which most chunks of such a collection would hold
    assert weighted[1] < even[1] and weighted[0] > weighted[1] + 0.2


def test_rarity_is_asked_of_the_index_by_the_words_as_the_question_writes_them(tmp_path):
    index = LexicalIndex(tmp_path / "lexical")
    texts = ["The disease spreads.", "Each disease is reported.", "A zebra has a disease.", "Tea."]
    index.upsert(["a", "b", "c", "d"], texts, [{"path": "/t.txt", "version": "v"}] * 4)
    question = "Does the disease increase in a zebra?"
    weights = question_weights(question, {"diseas", "increas", "zebra"}, index.rarity)
    index.close()
    # "diseas" stemmed again would be "disea", held by no chunk: the commonest word would weigh the most
    assert weights["diseas"] < weights["zebra"] < weights["increas"]


def test_a_number_in_a_name_of_the_question_is_not_required(real_embeddings):
    windows = sentence_windows([passage(1, "HIV binds the CD4 receptor of T cells.")])
    score = relevance("What receptor does HIV-1 bind?", windows, real_embeddings.embed_documents)
    assert score[0] > 0.5  # the support check of a claim would give 0: the sentence lacks "1"


def test_how_long_asks_for_a_duration_and_is_not_a_word_to_find(real_embeddings):
    windows = sentence_windows([passage(1, "The warranty covers the machine for two years.")])
    embed = real_embeddings.embed_documents
    rare = {"long": 4.0, "warranty": 1.0}.get
    asked = relevance(
        "How long is the warranty?", windows, embed, lambda words: {w: rare(w, 1.0) for w in words}
    )
    assert asked[0] > 0.6  # "long" left out: the sentence holds every word the question is about


def test_grounding_credits_a_word_only_the_sentences_file_holds(real_embeddings):
    gross = Passage(1, "q2.pdf", "/docs/q2.pdf", 3, "", "c1", 0.5, "Our gross margin fell to 41 percent.")
    question = "What was the gross margin of Northwind?"
    files = {"/docs/q2.pdf": {"northwind"}}  # the filing's first page names the company

    def select(in_files, credit: float = 0.5):
        return select_evidence(question, [gross], real_embeddings.embed_documents, 0, None, in_files, credit)

    alone = select(None)
    read_in_file = select(lambda words, paths: {p: files[p] & set(words) for p in paths})
    elsewhere = select(lambda words, paths: {p: set() for p in paths})
    assert alone.grounding == alone.strength == read_in_file.strength == elsewhere.grounding
    # one word of three, at half its weight: the share of words rises by 1/6, the mean of two by 1/12
    assert read_in_file.grounding == pytest.approx(alone.strength + 1 / 12)
    assert (
        select(lambda words, paths: {p: files[p] & set(words) for p in paths}, 0.0).grounding
        == alone.grounding
    )


def test_grounding_gains_the_best_passage_cosines_margin_over_the_floor_and_loses_nothing_below(
    real_embeddings,
):
    question = "How often should I descale the machine?"
    scored = [replace(SOURCES[0], score=0.45), replace(SOURCES[2], score=0.75)]
    far = [replace(p, score=0.2) for p in scored]

    def select(passages, weight: float):
        embed = real_embeddings.embed_documents
        return select_evidence(question, passages, embed, 0, passage_weight=weight, score_floor=0.35)

    sentences_only = select(scored, 0.0)
    assert sentences_only.grounding == sentences_only.strength
    # the best passage (0.75) is 0.40 above the floor: half of that is added, to the grounding only
    with_passage = select(scored, 0.5)
    assert with_passage.grounding == pytest.approx(sentences_only.strength + 0.2)
    assert with_passage.strength == sentences_only.strength
    below = select(far, 0.5)  # no passage reaches the floor: the sentences alone decide
    assert below.grounding == pytest.approx(below.strength)


def test_a_sentence_holding_the_kind_of_answer_asked_for_ranks_higher_with_a_type_weight(real_embeddings):
    question = "How long does the warranty last?"
    defects = "The limited warranty is designed to protect you against manufacturing defects."
    period = "Your machine is protected by a two-year limited warranty."
    sources = [passage(1, f"{defects} {period}")]
    plain = select_evidence(question, sources, real_embeddings.embed_documents, 1)
    typed = select_evidence(question, sources, real_embeddings.embed_documents, 1, type_weight=0.1)
    assert plain.best == (1, defects)  # closer in words and meaning, but it says for how long nowhere
    assert typed.best == (1, period) and typed.passages[0].text == period
    assert typed.strength == plain.strength  # the ranking changes, not what the refusal gate reads
