"""The Tantivy lexical index, on disk in a temporary folder."""

import pytest

from rag.lexical import LexicalIndex, query_words


@pytest.fixture
def index(tmp_path):
    opened = LexicalIndex(tmp_path / "lexical")
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


def test_query_words_keeps_content_words_once():
    words = query_words("How often should the boiler be descaled? The BOILER!")
    assert words == ["often", "boiler", "descaled"]
    assert query_words("what is it?") == []


def test_search_ranks_by_shared_words_and_stems(index):
    add_sample(index)
    found = index.search("How do I descale the boiler?", 5)
    assert [chunk_id for chunk_id, _ in found] == ["a1"]  # "descale" matches "descaled" (English stemmer)
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
    first = LexicalIndex(tmp_path / "lexical")
    add_sample(first)
    first.close()
    again = LexicalIndex(tmp_path / "lexical")
    assert again.count() == 3 and again.search("grinding", 1)[0][0] == "a2"
    again.close()


def test_usable_from_another_thread(index):
    from concurrent.futures import ThreadPoolExecutor

    add_sample(index)
    with ThreadPoolExecutor(max_workers=2) as pool:
        found = list(pool.map(lambda q: index.search(q, 1)[0][0], ["grinding", "receipt", "citric"]))
    assert found == ["a2", "b1", "a1"]


def test_words_match_by_stem_and_without_accents(index):
    add_sample(index)
    index.upsert(["c1"], ["The Café descales its boilers daily."], [meta("/docs/cafe.txt")])
    assert {c for c, _ in index.search("cafe", 5)} == {"c1"}
    assert {c for c, _ in index.search("descaling boiler", 5)} == {"a1", "c1"}


def test_rarer_words_weigh_more(index):
    common = [f"The machine heats water for shot {n}." for n in range(6)]
    index.upsert(
        [f"m{n}" for n in range(6)] + ["rare"],
        [*common, "The machine gasket is replaced yearly."],
        [meta(f"/docs/m{n}.txt") for n in range(7)],
    )
    found = index.search("machine gasket", 10)
    assert len(found) == 7 and found[0][0] == "rare"
    assert found[0][1] > 2 * found[1][1]


def test_chunk_ids_and_paths_list_live_chunks_only(index):
    add_sample(index)
    index.delete_file("/docs/warranty-terms.pdf")
    assert index.chunk_ids() == ["a1", "a2"] and index.paths() == ["/docs/care.txt"]


def test_another_writers_commit_is_seen(tmp_path, index):
    add_sample(index)
    assert not index.changed_elsewhere()
    other = LexicalIndex(tmp_path / "lexical")  # as another process would open it
    other.upsert(["z1"], ["Zebra-striped gaskets."], [meta("/docs/zebra.txt")])
    assert index.changed_elsewhere() and not index.changed_elsewhere()
    assert index.search("zebra", 5)[0][0] == "z1" and index.count() == 4


def test_a_failed_write_leaves_the_last_commit(index):
    add_sample(index)
    with pytest.raises(ValueError):
        index.upsert(["x1", "x2"], ["Extra text.", "More."], [meta("/docs/x.txt")])  # one metadata short
    assert index.count() == 3 and index.search("extra", 5) == []


def test_rarity_is_highest_for_words_few_chunks_hold(index):
    add_sample(index)
    rarity = index.rarity(["the", "boiler", "zebra", "descaling"])
    assert rarity["zebra"] > rarity["boiler"] > rarity["the"] > 0  # "the": in every chunk's text
    assert rarity["descaling"] == rarity["boiler"]  # same stem as "descaled", in the same one chunk


def test_rarity_within_some_files_counts_only_their_chunks(index):
    add_sample(index)
    everywhere = index.rarity(["warranty", "coffee"])
    within = index.rarity(["warranty", "coffee"], paths=["/docs/care.txt"])
    assert within["warranty"] > everywhere["warranty"]  # held only by the file left out
    assert within["warranty"] == index.rarity(["zebra"], paths=["/docs/care.txt"])["zebra"]


def test_file_scores_rank_files_by_their_whole_text(index):
    index.upsert(
        ["n1", "n2", "c1", "c2"],
        [
            "Northwind Corporation, quarterly report. Northwind makes chips.",
            "Our gross margin fell because of memory prices.",
            "Contoso Corporation, quarterly report.",
            "Our gross margin fell because of memory prices.",
        ],
        [meta("/docs/n.pdf"), meta("/docs/n.pdf"), meta("/docs/c.pdf"), meta("/docs/c.pdf")],
    )
    scores = index.file_scores("Why did Northwind's gross margin fall?", ["/docs/n.pdf", "/docs/c.pdf"])
    assert set(scores) == {"/docs/n.pdf", "/docs/c.pdf"} and scores["/docs/n.pdf"] > scores["/docs/c.pdf"]
    assert list(index.file_scores("Northwind", ["/docs/c.pdf", "/docs/x.pdf"])) == []  # only those listed
    assert index.file_scores("Northwind", []) == {} and index.file_scores("what is it", ["/docs/n.pdf"]) == {}


def test_words_in_files_tells_which_words_each_file_holds(index):
    add_sample(index)
    index.upsert(["a3"], ["Clean the grinders weekly."], [meta("/docs/care.txt")])  # a second part
    paths = ["/docs/care.txt", "/docs/warranty-terms.pdf"]
    held = index.words_in_files(["grinder", "Warranty", "receipts", "zebra", "1.5"], paths)
    assert held == {"/docs/care.txt": {"grinder"}, "/docs/warranty-terms.pdf": {"Warranty", "receipts"}}
    assert index.words_in_files(["citric"], ["/docs/warranty-terms.pdf"]) == {
        "/docs/warranty-terms.pdf": set()
    }


def test_file_parts_follow_writes_and_deletes(index):
    add_sample(index)
    assert index.file_paths() == index.paths() == ["/docs/care.txt", "/docs/warranty-terms.pdf"]
    care = [meta("/docs/care.txt")] * 2
    index.upsert(["a1", "a2"], ["Descaling is now done weekly.", "Grind finer."], care)
    assert index.file_scores("citric", ["/docs/care.txt"]) == {}  # the part written again replaced the first
    assert index.file_scores("weekly", ["/docs/care.txt"])
    index.upsert(["a3"], ["Citric acid, once a month."], [meta("/docs/care.txt", "v2")])
    index.delete_file("/docs/care.txt", keep_version="v2")
    assert index.file_scores("weekly", ["/docs/care.txt"]) == {}  # only v2's part is left
    assert index.file_scores("citric", ["/docs/care.txt"])
    index.delete_file("/docs/warranty-terms.pdf")
    assert index.file_paths() == index.paths() == ["/docs/care.txt"]
    index.clear()
    assert index.file_paths() == [] and index.file_scores("citric", ["/docs/care.txt"]) == {}
