"""The SQLite FTS5 lexical index, on disk in a temporary folder."""

import pytest

from rag.lexical import LexicalIndex, match_expression, query_words, within_budget


@pytest.fixture
def index(tmp_path):
    opened = LexicalIndex(tmp_path / "lexical.sqlite")
    yield opened
    opened.close()


def meta(path: str, version: str = "v1", heading: str = "") -> dict:
    return {"path": path, "version": version, "heading": heading}


def add_sample(index: LexicalIndex) -> None:
    index.upsert(
        ["a1", "a2", "b1"],
        [
            "The boiler is descaled every three months with citric acid.",
            "Grinding coffee beans finer makes the shot run slower.",
            "Warranty claims are sent by post with the receipt.",
        ],
        [meta("/docs/care.txt"), meta("/docs/care.txt"), meta("/docs/warranty-terms.pdf")],
    )


def test_match_expression_keeps_content_words_once():
    words = query_words("How often should the boiler be descaled? The BOILER!")
    assert words == ["often", "boiler", "descaled"]
    assert match_expression(words) == '"often" OR "boiler" OR "descaled"'
    assert match_expression(query_words("what is it?")) == ""


def test_search_ranks_by_shared_words_and_stems(index):
    add_sample(index)
    found = index.search("How do I descale the boiler?", 5)
    assert [chunk_id for chunk_id, _ in found] == ["a1"]  # "descale" matches "descaled" (porter stemmer)
    assert found[0][1] > 0
    assert index.search("what is it", 5) == []


def test_title_and_heading_are_searchable(index):
    index.upsert(["c1"], ["Send it by post."], [meta("/docs/nimbus_manual.md", heading="Repairs > Shipping")])
    add_sample(index)
    assert index.search("nimbus shipping", 5)[0][0] == "c1"
    assert index.search("warranty terms", 5)[0][0] == "b1"  # from the file name


def test_upsert_replaces_and_delete_keeps_the_current_version(index):
    add_sample(index)
    index.upsert(["a1"], ["Descaling is now done monthly."], [meta("/docs/care.txt", "v2")])
    assert index.count() == 3
    assert [c for c, _ in index.search("citric", 5)] == []
    assert [c for c, _ in index.search("monthly", 5)] == ["a1"]
    index.delete_file("/docs/care.txt", keep_version="v2")
    assert index.count() == 2 and index.paths() == ["/docs/care.txt", "/docs/warranty-terms.pdf"]
    index.delete_file("/docs/care.txt")
    assert index.paths() == ["/docs/warranty-terms.pdf"] and index.search("monthly", 5) == []


def test_search_within_paths(index):
    add_sample(index)
    question = "boiler warranty receipt"
    assert {c for c, _ in index.search(question, 5)} == {"a1", "b1"}
    assert [c for c, _ in index.search(question, 5, paths=["/docs/care.txt"])] == ["a1"]
    assert index.search(question, 5, paths=[]) == []


def test_index_persists_across_opening(tmp_path):
    first = LexicalIndex(tmp_path / "lexical.sqlite")
    add_sample(first)
    first.close()
    again = LexicalIndex(tmp_path / "lexical.sqlite")
    assert again.count() == 3 and again.search("grinding", 1)[0][0] == "a2"
    again.close()


def test_usable_from_another_thread(index):
    from concurrent.futures import ThreadPoolExecutor

    add_sample(index)
    with ThreadPoolExecutor(max_workers=2) as pool:
        found = list(pool.map(lambda q: index.search(q, 1)[0][0], ["grinding", "receipt", "citric"]))
    assert found == ["a2", "b1", "a1"]


def test_chunk_counts_come_from_the_index_by_stem(index):
    add_sample(index)
    index.upsert(["c1"], ["The Café descales its boiler daily."], [meta("/docs/cafe.txt")])
    counts = index.chunk_counts(["boilers", "descaling", "café", "receipt", "unheard"])
    assert counts == {"boilers": 2, "descaling": 2, "café": 1, "receipt": 1}


def test_the_commonest_words_go_first_beyond_the_budget():
    counts = {"virus": 900, "incubation": 40, "period": 300}
    words = ["virus", "incubation", "period", "unknown"]
    assert within_budget(words, counts, 0) == words
    assert within_budget(words, counts, 400) == ["unknown", "incubation", "period"]
    assert within_budget(words, counts, 100) == ["unknown", "incubation"]
    assert within_budget(["virus", "period"], counts, 10) == ["period"]  # the rarest always stays


def test_a_budget_leaves_chunks_that_hold_only_common_words_out(index):
    common = [f"The machine heats water for shot {n}." for n in range(6)]
    index.upsert(
        [f"m{n}" for n in range(6)] + ["rare"],
        [*common, "The machine gasket is replaced yearly."],
        [meta(f"/docs/m{n}.txt") for n in range(7)],
    )
    question = "machine gasket"
    assert len(index.search(question, 10)) == 7
    assert [c for c, _ in index.search(question, 10, max_matches=3)] == ["rare"]
    assert index.search(question, 10)[0][0] == "rare"  # the same best chunk either way
