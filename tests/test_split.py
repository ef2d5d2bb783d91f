from pathlib import Path

from ingest.loaders import Section
from ingest.split import chunk_id, embedding_text, file_version, split_sections
from rag.settings import ChunkingSettings


def test_chunks_respect_size_and_carry_citation_metadata():
    sections = [Section("word " * 600, page=2, heading=""), Section("short text", page=3)]
    chunks = list(
        split_sections(sections, Path("/docs/guide.pdf"), "abc", ChunkingSettings(size=500, overlap=50))
    )
    assert all(len(c.text) <= 500 for c in chunks)
    assert [c.metadata["chunk_index"] for c in chunks] == list(range(len(chunks)))
    assert chunks[-1].metadata["page"] == 3 and chunks[-1].text == "short text"
    assert {c.metadata["file"] for c in chunks} == {"guide.pdf"}
    assert len({c.id for c in chunks}) == len(chunks)


def test_ids_are_deterministic_and_depend_on_content():
    assert chunk_id("/a.txt", "sha1", 0) == chunk_id("/a.txt", "sha1", 0)
    assert chunk_id("/a.txt", "sha1", 0) != chunk_id("/a.txt", "sha2", 0)
    assert chunk_id("/a.txt", "sha1", 0) != chunk_id("/b.txt", "sha1", 0)


def test_embedding_text_names_title_and_heading_but_stored_text_does_not():
    sections = [Section("Descale monthly.", heading="Care > Descaling")]
    chunks = list(split_sections(sections, Path("/d/user-guide.md"), "s", ChunkingSettings()))
    assert chunks[0].text == "Descale monthly."
    assert chunks[0].embed_text == embedding_text(
        Path("/d/user-guide.md"), "Care > Descaling", "Descale monthly."
    )
    assert chunks[0].embed_text.startswith("user guide | Care > Descaling\n")
    assert "page" not in chunks[0].metadata


def test_without_context_prefix_the_passage_is_embedded_as_is():
    sections = [Section("Descale monthly.", heading="Care")]
    (chunk,) = list(split_sections(sections, Path("/d/g.md"), "s", ChunkingSettings(context_prefix=False)))
    assert chunk.embed_text == "Descale monthly."


def test_a_new_recipe_is_a_new_version():
    assert file_version("sha", ChunkingSettings().recipe) == file_version("sha", ChunkingSettings().recipe)
    assert file_version("sha", ChunkingSettings().recipe) != file_version(
        "sha", ChunkingSettings(size=600).recipe
    )
