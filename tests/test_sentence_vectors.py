"""Sentence vectors kept beside the chunks: a real SQLite table, the real model where vectors matter."""

import numpy as np
import pytest

from ingest.sync import sync
from rag.components import open_collection, open_manifest
from rag.sentence_vectors import SentenceVectors, StoredFirst, chunk_sentences, sentence_key
from rag.settings import ChunkingSettings


@pytest.fixture
def table(tmp_path):
    opened = SentenceVectors(tmp_path / "sentences.sqlite")
    yield opened
    opened.close()


def test_vectors_come_back_as_stored_within_float16_precision(table):
    vector = np.random.default_rng(0).normal(size=384).astype(np.float32)
    vector /= np.linalg.norm(vector)
    table.add("/a.txt", "v1", ["k1", "k2"], {"k1": vector.tolist()})
    found = table.lookup(["k1", "k2", "k3"])
    assert set(found) == {"k1"} and table.known(["k1", "k2"]) == {"k1"}
    assert found["k1"].dtype == np.float32 and float(found["k1"] @ vector) == pytest.approx(1.0, abs=1e-3)


def test_a_file_removed_takes_only_the_vectors_no_other_file_holds(table):
    table.add("/a.txt", "v1", ["shared", "only-a"], {"shared": [1.0, 0.0], "only-a": [0.0, 1.0]})
    table.add("/b.txt", "v1", ["shared"], {})
    table.delete_file("/a.txt")
    assert table.known(["shared", "only-a"]) == {"shared"}
    table.delete_file("/b.txt")
    assert table.count() == 0


def test_a_replaced_version_keeps_the_sentences_the_new_one_still_holds(table):
    table.add("/a.txt", "old", ["kept", "dropped"], {"kept": [1.0], "dropped": [0.5]})
    table.add("/a.txt", "new", ["kept", "added"], {"added": [0.2]})
    table.delete_file("/a.txt", keep_version="new")
    assert table.known(["kept", "dropped", "added"]) == {"kept", "added"}
    table.delete_file("/a.txt", version="new")  # a failed write of "new" is undone
    assert table.count() == 0


def test_stored_vectors_are_not_embedded_again(table):
    table.add("/a.txt", "v1", [sentence_key("stored one")], {sentence_key("stored one"): [1.0, 0.0]})
    asked: list[str] = []

    def embed(texts):
        asked.extend(texts)
        return [[0.0, 1.0] for _ in texts]

    vectors = StoredFirst(table, embed)(["stored one", "new one", "new one"])
    assert asked == ["new one"]
    assert [list(v) for v in vectors] == [[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]


def test_chunk_sentences_are_the_evidence_sentences_and_pdf_lines_are_unwrapped():
    text = "Warranty Overview\nThe limited warranty covers\nthe boiler for two years. Call us."
    assert chunk_sentences(text, "/w.pdf") == ["The limited warranty covers the boiler for two years."]
    assert "Warranty Overview" not in chunk_sentences(text, "/w.txt")


def test_sync_stores_each_chunk_sentence_once_and_prune_removes_them(docs, settings, embeddings):
    chunking = ChunkingSettings(sentence_vectors=True)
    store = open_collection(settings, embeddings)
    manifest = open_manifest(store)
    try:
        sync([docs], store, manifest, chunking)
        texts = store._collection.get(include=["documents", "metadatas"])
        sentences = {
            sentence_key(s)
            for text, meta in zip(texts["documents"], texts["metadatas"], strict=True)
            for s in chunk_sentences(text, meta["path"])
        }
        assert store.sentences.known(sentences) == sentences == set(store.sentences.lookup(sentences))
        assert store.sentences.count() == len(sentences)
        embeddings.embedded.clear()
        rows = zip(texts["documents"], texts["metadatas"], strict=True)
        stored = [s for text, meta in rows for s in chunk_sentences(text, meta["path"])]
        assert len(store.sentence_embed([*stored, "An answer sentence."])) == len(stored) + 1
        assert embeddings.embedded == ["An answer sentence."]  # what a question's evidence costs
        embeddings.embedded.clear()
        (docs / "faq.html").unlink()
        sync([docs], store, manifest, chunking, prune=True)
        left = store._collection.get(include=["documents", "metadatas"])
        still = {
            sentence_key(s)
            for text, meta in zip(left["documents"], left["metadatas"], strict=True)
            for s in chunk_sentences(text, meta["path"])
        }
        assert store.sentences.count() == len(still) < len(sentences) and embeddings.embedded == []
    finally:
        manifest.close()
        store.close()


def test_without_sentence_vectors_the_sync_embeds_chunks_only(docs, settings, embeddings):
    chunking = ChunkingSettings()  # the default: off
    store = open_collection(settings, embeddings)
    manifest = open_manifest(store)
    try:
        report = sync([docs], store, manifest, chunking)
        assert store.sentences.count() == 0 and len(embeddings.embedded) == report.embedded_chunks
    finally:
        manifest.close()
        store.close()
