"""The Chroma collection behind askdocs: open it, write chunks in batches, search it by cosine similarity.

Layout of a store folder: `chroma/` (Chroma's persistent directory), `manifest.sqlite` (see
`ingest.manifest`), `conversations.sqlite` (see `rag.memory`), `write.lock` (see `rag.lock`), `models/`
(assembled model files). The collection records the embedding model it was built with; opening it with
another model is an `EmbeddingMismatchError`. This module does not decide what to ingest, and it does
not embed documents itself (the caller passes vectors); queries are embedded through the LangChain
wrapper.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from rag.errors import EmbeddingMismatchError, StoreError, StorePathError


@dataclass(frozen=True)
class StoreLayout:
    """Where each part of a store folder lives."""

    root: Path

    @property
    def chroma_dir(self) -> Path:
        return self.root / "chroma"

    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.sqlite"

    @property
    def models_dir(self) -> Path:
        return self.root / "models"

    @property
    def conversations_path(self) -> Path:
        return self.root / "conversations.sqlite"


class Store:
    """One Chroma collection plus the embedding model it was built with."""

    def __init__(self, client: Any, collection: Any, embeddings: Embeddings, layout: StoreLayout) -> None:
        self._client = client
        self._collection = collection
        self.embeddings = embeddings
        self.layout = layout

    @property
    def embedding_model(self) -> str:
        return (self._collection.metadata or {}).get("embedding_model", "")

    def count(self) -> int:
        return self._collection.count()

    def upsert(
        self, ids: Sequence[str], texts: Sequence[str], vectors: Sequence, metadatas: Sequence[dict]
    ) -> None:
        """Write chunks in batches no larger than Chroma accepts; existing ids are overwritten."""
        step = max(1, min(self._client.get_max_batch_size(), 1000))
        for start in range(0, len(ids), step):
            end = start + step
            self._collection.upsert(
                ids=list(ids[start:end]),
                documents=list(texts[start:end]),
                embeddings=[list(map(float, v)) for v in vectors[start:end]],
                metadatas=list(metadatas[start:end]),
            )

    def delete_file(self, path: str, keep_version: str | None = None) -> None:
        """Delete a file's chunks; with `keep_version`, only those from other versions of the file."""
        where: dict[str, Any] = {"path": path}
        if keep_version is not None:
            where = {"$and": [{"path": path}, {"version": {"$ne": keep_version}}]}
        self._collection.delete(where=where)

    def search(self, query: str, k: int, where: dict | None = None) -> list[tuple[Document, float]]:
        """The k chunks closest to the query, with cosine similarity (1.0 is identical)."""
        from langchain_chroma import Chroma

        if self.count() == 0:
            return []
        vectorstore = Chroma(
            client=self._client, collection_name=self._collection.name, embedding_function=self.embeddings
        )
        found = vectorstore.similarity_search_with_score(query, k=k, filter=where)
        return [(doc, 1.0 - distance) for doc, distance in found]

    def close(self) -> None:
        self._client.close()


def open_store(root: Path, collection: str, embeddings: Embeddings, embedding_model: str) -> Store:
    """Open (creating if needed) the collection at `root`, checking it was built with `embedding_model`."""
    import chromadb

    layout = StoreLayout(root)
    if root.exists() and not root.is_dir():
        raise StorePathError(f"store path {root} is a file, not a folder: choose another --store")
    try:
        layout.chroma_dir.mkdir(parents=True, exist_ok=True)
        client = chromadb.PersistentClient(
            path=str(layout.chroma_dir),
            settings=chromadb.Settings(anonymized_telemetry=False, allow_reset=False),
        )
        handle = client.get_or_create_collection(
            collection,
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"embedding_model": embedding_model},
        )
    except OSError as exc:
        raise StoreError(f"cannot open the store at {root}: {exc}") from None
    store = Store(client, handle, embeddings, layout)
    _check_embedding_model(store, embedding_model)
    return store


def _check_embedding_model(store: Store, configured: str) -> None:
    if store.embedding_model != configured:
        raise EmbeddingMismatchError(
            f"the store at {store.layout.root} was built with embedding model '{store.embedding_model}', "
            f"but settings say '{configured}': set embeddings.model back, "
            "or use a new --store and ingest again"
        )
