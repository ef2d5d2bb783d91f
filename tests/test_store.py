import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rag.components import open_collection
from rag.errors import EmbeddingMismatchError, StorePathError
from rag.settings import EmbeddingSettings


def test_store_remembers_its_embedding_model(settings, embeddings):
    store = open_collection(settings, embeddings)
    assert store.embedding_model == "all-MiniLM-L6-v2"
    store.close()
    other = settings.model_copy(update={"embeddings": EmbeddingSettings(model="/models/other-model")})
    with pytest.raises(EmbeddingMismatchError, match="all-MiniLM-L6-v2.*other-model"):
        open_collection(other, embeddings)


def test_store_path_that_is_a_file(settings, embeddings, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StorePathError, match="is a file"):
        open_collection(settings.with_store(blocker), embeddings)


def test_upsert_batches_and_overwrites_by_id(settings, embeddings, monkeypatch):
    store = open_collection(settings, embeddings)
    monkeypatch.setattr(store._client, "get_max_batch_size", lambda: 7)
    ids = [f"id{i}" for i in range(20)]
    texts = [f"text {i}" for i in range(20)]
    vectors = embeddings.embed_documents(texts)
    metas = [{"path": "/x.txt", "version": "a"} for _ in ids]
    store.upsert(ids, texts, vectors, metas)
    store.upsert(ids, texts, vectors, metas)
    assert store.count() == 20
    store.delete_file("/x.txt", keep_version="a")
    assert store.count() == 20
    store.delete_file("/x.txt")
    assert store.count() == 0
    store.close()


def test_lexical_index_follows_every_write_and_delete(settings, embeddings):
    store = open_collection(settings, embeddings)
    texts = ["descaling the boiler", "grinding the beans"]
    metas = [{"path": "/a.txt", "version": "1"}, {"path": "/b.txt", "version": "1"}]
    store.upsert(["a", "b"], texts, embeddings.embed_documents(texts), metas)
    assert store.lexical.count() == store.count() == 2
    assert [chunk_id for chunk_id, _ in store.lexical.search("boiler", 5)] == ["a"]
    store.delete_file("/a.txt")
    assert store.lexical.count() == store.count() == 1 and store.lexical.search("boiler", 5) == []
    store.close()


def test_a_store_without_lexical_index_gets_it_from_chroma(settings, embeddings):
    store = open_collection(settings, embeddings)
    texts = ["descaling the boiler", "grinding the beans"]
    metas = [{"path": "/a.txt", "version": "1", "heading": "Care"}, {"path": "/b.txt", "version": "1"}]
    store.upsert(["a", "b"], texts, embeddings.embed_documents(texts), metas)
    layout = store.layout
    store.close()
    shutil.rmtree(layout.lexical_path)  # as if made before this index existed, with the FTS5 file it replaces
    legacy = [layout.root / f"lexical.sqlite{suffix}" for suffix in ("", "-wal", "-shm")]
    for path in legacy:
        path.write_bytes(b"old index")
    reopened = open_collection(settings, embeddings)
    assert reopened.lexical.count() == 2
    assert {chunk_id for chunk_id, _ in reopened.lexical.search("care grinding", 5)} == {"a", "b"}
    assert not any(path.exists() for path in legacy)
    assert reopened.lexical.file_paths() == ["/a.txt", "/b.txt"]
    reopened.close()


def test_a_store_without_file_parts_gets_them_from_chroma(settings, embeddings):
    store = open_collection(settings, embeddings)
    texts = ["descaling the boiler", "grinding the beans"]
    metas = [{"path": "/a.txt", "version": "1"}] * 2
    store.upsert(["a", "b"], texts, embeddings.embed_documents(texts), metas)
    layout = store.layout
    store.close()
    shutil.rmtree(layout.lexical_path / "files")  # as if made before file parts existed
    reopened = open_collection(settings, embeddings)
    assert reopened.lexical.file_paths() == ["/a.txt"] and reopened.lexical.count() == 2
    assert reopened.lexical.file_scores("boiler beans", ["/a.txt"])["/a.txt"] > 0
    reopened.close()


def test_an_empty_store_says_so_and_finds_nothing(settings, embeddings):
    store = open_collection(settings, embeddings)
    query = embeddings.embed_query("boiler")
    assert store.is_empty() and store.search_vector(query, 5) == []
    store.upsert(["a"], ["descaling the boiler"], [query], [{"path": "/a.txt", "version": "1"}])
    assert not store.is_empty() and [doc.id for doc, _ in store.search_vector(query, 5)] == ["a"]
    store.delete_file("/a.txt")
    assert store.is_empty() and store.search_vector(query, 5) == []
    store.close()


def test_get_returns_chunks_in_order_with_cosine(settings, embeddings):
    store = open_collection(settings, embeddings)
    texts = ["descaling the boiler", "grinding the beans"]
    store.upsert(
        ["a", "b"], texts, embeddings.embed_documents(texts), [{"path": "/a.txt"}, {"path": "/b.txt"}]
    )
    query = embeddings.embed_query("how to descale the boiler")
    found = store.get(["b", "missing", "a"], query)
    assert [doc.id for doc, _ in found] == ["b", "a"]
    dense = dict((doc.id, score) for doc, score in store.search_vector(query, 2))
    assert found[1][1] == pytest.approx(dense["a"], abs=1e-4) and found[1][1] > found[0][1]
    store.close()


def test_a_reader_sees_what_another_process_ingested(settings, embeddings, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "pump.txt").write_text("The zebra pump has seven valves.")
    ingest = [
        str(Path(sys.executable).parent / "askdocs"),
        "--store",
        str(settings.store.path),
        "ingest",
        str(docs),
    ]
    assert subprocess.run(ingest, capture_output=True).returncode == 0
    reader = open_collection(settings, embeddings)  # a long-lived reader, like the page
    assert [d.page_content for d, _ in reader.search("giraffe boiler pressure", 1)] == [
        "The zebra pump has seven valves."
    ]
    (docs / "boiler.txt").write_text("The giraffe boiler runs at nine bar pressure.")
    assert subprocess.run(ingest, capture_output=True).returncode == 0  # another process writes
    found = [d.page_content for d, _ in reader.search("giraffe boiler pressure", 2)]
    assert found[0] == "The giraffe boiler runs at nine bar pressure." and len(found) == 2
    reader.close()


def test_stored_vectors_are_found_by_the_hash_of_their_embedding_text(settings, embeddings):
    store = open_collection(settings, embeddings)
    texts = ["descaling the boiler", "grinding the beans", "an old chunk"]
    vectors = embeddings.embed_documents(texts)
    metadatas = [
        {"path": "/a.txt", "embed_hash": "h1"},
        {"path": "/b.txt", "embed_hash": "h2"},
        {"path": "/c"},
    ]
    store.upsert(["a", "b", "c"], texts, vectors, metadatas)
    found = store.stored_vectors(["h2", "h3", "h2"])
    assert list(found) == ["h2"] and found["h2"] == pytest.approx(vectors[1], abs=1e-6)
    assert store.stored_vectors([]) == {}
    store.close()
