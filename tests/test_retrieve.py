"""Retrieval over the sample collection with the real embedding model."""

import pytest

from rag.retrieve import retrieve


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
def test_the_right_passage_ranks_first(sample_store, question, file, page):
    passages = retrieve(sample_store, question, k=5)
    assert passages[0].file == file
    if page is not None:
        assert passages[0].page == page
    assert [p.rank for p in passages] == [1, 2, 3, 4, 5]
    assert passages[0].score >= passages[-1].score
    assert passages[0].chunk_id and passages[0].path.endswith(file)


def test_metadata_filter_restricts_files(sample_store):
    passages = retrieve(sample_store, "warranty", k=3, where={"file": "faq.html"})
    assert passages and {p.file for p in passages} == {"faq.html"}
