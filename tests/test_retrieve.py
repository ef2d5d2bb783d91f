"""Retrieval over the sample collection with the real embedding model."""

import pytest

from rag.retrieve import retrieve, search
from rag.settings import RetrievalSettings
from rag.store import open_store

DENSE_ONLY = RetrievalSettings(lexical=False, rerank=False, file_weight=0)


@pytest.mark.parametrize(
    ("question", "file", "page"),
    [
        ("How long are accessories like the portafilter covered?", "warranty.pdf", 1),
        ("Where do I send a warranty claim and how long does the repair take?", "warranty.pdf", 3),
        ("What does it mean when the red light blinks three times?", "faq.html", None),
        ("How often should I descale if my water is hard?", "maintenance.docx", None),
        ("After how many minutes does eco standby start?", "release-notes.txt", None),
        ("When was Larkspur Appliances founded and where?", "onboarding-slides.pptx", 1),
        ("How much water does the tank hold?", "setup-guide.md", None),
    ],
)
@pytest.mark.parametrize(
    "options",
    [RetrievalSettings(), RetrievalSettings(rerank=False), RetrievalSettings(file_weight=0), DENSE_ONLY],
    ids=["hybrid", "hybrid-no-rerank", "hybrid-no-file-match", "dense"],
)
def test_the_right_passage_ranks_first(sample_store, question, file, page, options):
    passages = retrieve(sample_store, question, k=5, options=options)
    assert passages[0].file == file
    if page is not None:
        assert passages[0].page == page
    assert [p.rank for p in passages] == [1, 2, 3, 4, 5]
    assert passages[0].chunk_id and passages[0].path.endswith(file)
    assert len({p.chunk_id for p in passages}) == 5


def test_dense_only_ranks_by_cosine_and_hybrid_keeps_cosine_scores(sample_store):
    question = "What is the part number of the shower screen?"
    dense = retrieve(sample_store, question, k=5, options=DENSE_ONLY)
    assert [p.score for p in dense] == sorted((p.score for p in dense), reverse=True)
    hybrid = retrieve(sample_store, question, k=5)
    dense_scores = {p.chunk_id: p.score for p in retrieve(sample_store, question, k=50, options=DENSE_ONLY)}
    for passage in hybrid:
        assert passage.score == pytest.approx(dense_scores[passage.chunk_id], abs=1e-3)


def test_stage_timings_follow_the_settings(sample_store):
    hybrid = search(sample_store, "descaling", 3)
    assert set(hybrid.timings_ms) == {"dense", "lexical", "fusion", "files", "rerank", "diversity"}
    fused = search(sample_store, "descaling", 3, options=RetrievalSettings(rerank=False, file_weight=0))
    assert set(fused.timings_ms) == {"dense", "lexical", "fusion", "diversity"}
    assert set(search(sample_store, "descaling", 3, options=DENSE_ONLY).timings_ms) == {"dense", "diversity"}


def test_a_per_file_cap_and_penalty_spread_passages_over_files(sample_store):
    question = "warranty repair claim"
    plain = RetrievalSettings(file_penalty=0.0)
    uncapped = retrieve(sample_store, question, k=4, options=plain)
    assert len({p.file for p in uncapped}) < 4
    capped = retrieve(sample_store, question, k=4, options=plain.model_copy(update={"max_per_file": 1}))
    assert len({p.file for p in capped}) == 4 and capped[0].chunk_id == uncapped[0].chunk_id
    penalised = retrieve(sample_store, question, k=4, options=RetrievalSettings(file_penalty=5.0))
    assert len({p.file for p in penalised}) == 4 and penalised[0].chunk_id == uncapped[0].chunk_id


def test_paths_restrict_every_stage(sample_store):
    faq = [p for p in sample_store.lexical.paths() if p.endswith("faq.html")]
    for options in (RetrievalSettings(), DENSE_ONLY):
        passages = retrieve(sample_store, "warranty", k=3, paths=faq, options=options)
        assert passages and {p.file for p in passages} == {"faq.html"}
    assert retrieve(sample_store, "warranty", k=3, paths=[]) == []


def test_weak_evidence_when_no_passage_is_close(sample_store):
    assert search(sample_store, "Who won the football world cup in 1998?", 3).weak_evidence
    assert search(sample_store, "What is the basic reproduction number of measles?", 3).weak_evidence
    assert not search(
        sample_store, "What does it mean when the red light blinks three times?", 3
    ).weak_evidence
    never = RetrievalSettings(min_score=0.0)
    assert not search(sample_store, "Who won the football world cup in 1998?", 3, options=never).weak_evidence


def test_a_question_naming_a_file_s_subject_finds_its_passage_that_does_not(tmp_path, real_embeddings):
    """Two filings with the same wording; only the first page says whose filing it is."""
    store = open_store(tmp_path / "store", "test", real_embeddings, "all-MiniLM-L6-v2")
    causes = {"Northwind": "decreased in the quarter because of", "Contoso": "fell, mainly from"}
    for company, cause in causes.items():
        path = str(tmp_path / f"{company[:3].lower()}-q2.pdf")
        texts = [
            f"{company} Corporation. Quarterly report on Form 10-Q for the second quarter. {company} makes "
            f"chips. {company} sells them worldwide. {company} employs 9,000 people.",
            f"Our gross margin {cause} higher memory prices.",
        ]
        metadatas = [{"path": path, "version": "v1", "page": page} for page in (1, 2)]
        ids = [f"{company}-{page}" for page in (1, 2)]
        store.upsert(ids, texts, real_embeddings.embed_documents(texts), metadatas)
    question = "Why did the gross margin of Contoso decrease in the quarter?"
    plain = retrieve(store, question, k=2, options=RetrievalSettings(file_weight=0))
    assert plain[0].chunk_id == "Northwind-2"  # it has more of the question's words
    matched = retrieve(store, question, k=2, options=RetrievalSettings(file_weight=1.0))
    assert matched[0].chunk_id == "Contoso-2"
    assert matched[0].score == pytest.approx(plain[1].score, abs=1e-3)  # still its cosine
    store.close()
