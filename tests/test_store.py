import pytest

from rag.components import open_collection
from rag.errors import EmbeddingMismatchError, StoreError
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
    with pytest.raises(StoreError, match="is a file"):
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
