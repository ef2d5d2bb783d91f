"""The Chroma collection behind askdocs: open it, write chunks in batches, search it by cosine similarity.

Layout of a store folder: `chroma/` (Chroma's persistent directory), `lexical/` (the BM25 index,
see `rag.lexical`), `sentences.sqlite` (each chunk's sentences embedded, see `rag.sentence_vectors`),
`manifest.sqlite` (see `ingest.manifest`), `conversations.sqlite` (see `rag.memory`),
`write.lock` (see `rag.lock`), `models/` (assembled model files). With a Chroma server (`store.server`)
the collection lives on the server instead and no `chroma/` folder is made; everything else stays in the
local store folder. Every write and delete goes to both Chroma and the lexical index, so they hold the
same chunks (a file's sentence vectors, which the sync writes, are deleted with its chunks); a store
made before the lexical index existed (or one whose index lost step, such as a second machine reading a
server's collection) gets it rebuilt from Chroma's stored texts by
`bring_lexical_in_step`, which only a holder of the write lock may call (`rag.components`, `ingest.sync`).
Each chunk's metadata carries the hash of the text it was embedded from, so a sync can reuse the
stored vector of a text it has embedded before (`stored_vectors`). The collection records the
embedding model it was built with (with the backend for int8, whose vectors differ:
`all-MiniLM-L6-v2+onnx-int8`); opening it with another is an `EmbeddingMismatchError`. This module
does not decide what to ingest or how to rank; it does not embed documents itself (the caller passes
vectors), only queries; it does not start or manage a Chroma server.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from rag.errors import EmbeddingMismatchError, StoreError, StorePathError
from rag.lexical import LexicalIndex
from rag.sentence_vectors import SentenceVectors, StoredFirst


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

    @property
    def lexical_path(self) -> Path:
        return self.root / "lexical"

    @property
    def sentences_path(self) -> Path:
        return self.root / "sentences.sqlite"

    @property
    def legacy_lexical_files(self) -> list[Path]:
        """The SQLite FTS5 index that stores made before 2026-11-25 kept (replaced by `lexical/`)."""
        return [self.root / f"lexical.sqlite{suffix}" for suffix in ("", "-wal", "-shm")]


class Store:
    """One Chroma collection, the embedding model it was built with, and its lexical index."""

    def __init__(
        self,
        client: Any,
        collection: Any,
        embeddings: tuple[Embeddings, Embeddings],
        layout: StoreLayout,
        indexes: tuple[LexicalIndex, SentenceVectors],
        server: str = "",
    ) -> None:
        self._client = client
        self._collection = collection
        # chunks and questions, for the search; sentences compared with each other
        self.embeddings, self.sentence_embeddings = embeddings
        self.layout = layout
        self.lexical, self.sentences = indexes
        self.server = server  # the Chroma server's URL, or "" when Chroma is embedded in the store folder
        self._chroma_lock = threading.Lock()

    def refresh(self) -> None:
        """Reopen an embedded collection that another process wrote to since this one opened it.

        Embedded Chroma keeps its vector index in this process's memory and does not see another
        process's writes; the lexical index's last commit tells when there were some."""
        if self.server or not self.lexical.changed_elsewhere():
            return
        with self._chroma_lock:
            name = self._collection.name
            self._client.close()
            self._client = _persistent_client(self.layout)
            self._collection = self._client.get_collection(name)

    def sentence_embed(self, texts: list[str]) -> list:
        """Vectors of source sentences: the stored ones where there are, the rest embedded now."""
        return StoredFirst(self.sentences, self.sentence_embeddings.embed_documents)(texts)

    @property
    def embedding_model(self) -> str:
        return (self._collection.metadata or {}).get("embedding_model", "")

    def count(self) -> int:
        """Chunks in Chroma (it counts its rows: ~0.2 s at a million chunks)."""
        return self._collection.count()

    def is_empty(self) -> bool:
        """Whether no chunk is stored, from the lexical index, which holds the same chunks and knows its
        size at once (a writer at work may be a batch ahead in Chroma)."""
        return self.lexical.count() == 0

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
            self.lexical.upsert(ids[start:end], texts[start:end], metadatas[start:end])

    def stored_vectors(self, hashes: Sequence[str]) -> dict[str, list[float]]:
        """Vectors already stored for chunks whose embedding text has one of these `embed_hash`es (chunks
        stored before that key existed have none, so they are never found)."""
        if not hashes:
            return {}
        with self._chroma_lock:
            found = self._collection.get(
                where={"embed_hash": {"$in": sorted(set(hashes))}}, include=["metadatas", "embeddings"]
            )
        return {
            meta["embed_hash"]: vector
            for meta, vector in zip(found["metadatas"], found["embeddings"], strict=True)
        }

    def delete_file(self, path: str, keep_version: str | None = None, version: str | None = None) -> None:
        """Delete a file's chunks; with `keep_version`, only those from other versions of the file; with
        `version`, only that version's (a write that failed half-way)."""
        where: dict[str, Any] = {"path": path}
        if keep_version is not None:
            where = {"$and": [{"path": path}, {"version": {"$ne": keep_version}}]}
        elif version is not None:
            where = {"$and": [{"path": path}, {"version": version}]}
        self._collection.delete(where=where)
        self.lexical.delete_file(path, keep_version, version)
        self.sentences.delete_file(path, keep_version, version)

    def search(self, query: str, k: int, where: dict | None = None) -> list[tuple[Document, float]]:
        """The k chunks closest to the query, with cosine similarity (1.0 is identical)."""
        return self.search_vector(self.embeddings.embed_query(query), k, where)

    def search_vector(
        self, vector: Sequence[float], k: int, where: dict | None = None
    ) -> list[tuple[Document, float]]:
        """The k chunks closest to an embedded query, with cosine similarity (none if the store is empty)."""
        self.refresh()
        with self._chroma_lock:  # not while `refresh` swaps the client in another thread
            found = self._collection.query(
                query_embeddings=[list(map(float, vector))],
                n_results=k,
                where=where,
                include=["documents", "metadatas", "distances"],
            )
        rows = zip(
            found["ids"][0], found["documents"][0], found["metadatas"][0], found["distances"][0], strict=True
        )
        return [(_document(i, text, meta), 1.0 - distance) for i, text, meta, distance in rows]

    def get(self, ids: Sequence[str], vector: Sequence[float]) -> list[tuple[Document, float]]:
        """The chunks with these ids (in this order), each with its cosine similarity to `vector`."""
        if not ids:
            return []
        with self._chroma_lock:
            found = self._collection.get(ids=list(ids), include=["documents", "metadatas", "embeddings"])
        by_id = {
            i: (_document(i, text, meta), _dot(vector, emb))
            for i, text, meta, emb in zip(
                found["ids"], found["documents"], found["metadatas"], found["embeddings"], strict=True
            )
        }
        return [by_id[i] for i in ids if i in by_id]

    def close(self) -> None:
        self.lexical.close()
        self.sentences.close()
        self._client.close()


def _document(chunk_id: str, text: str | None, metadata: dict | None) -> Document:
    return Document(id=chunk_id, page_content=text or "", metadata=dict(metadata or {}))


def _dot(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity of two unit vectors (the stored and query embeddings are normalised)."""
    return float(np.dot(np.asarray(a, dtype=np.float32), np.asarray(b, dtype=np.float32)))


def require_folder(root: Path) -> None:
    """Refuse a store path that exists but is not a folder."""
    if root.exists() and not root.is_dir():
        raise StorePathError(f"store path {root} is a file, not a folder: choose another --store")


def open_store(
    root: Path,
    collection: str,
    embeddings: Embeddings,
    embedding_model: str,
    server: str = "",
    sentence_embeddings: Embeddings | None = None,
) -> Store:
    """Open (creating if needed) the collection, checking it was built with `embedding_model`;
    `sentence_embeddings` (default: `embeddings`) compares sentences (support check, evidence).

    Chroma is embedded in `root` unless `server` gives a Chroma server's `http(s)://host:port`; either
    way the manifest, lexical index, conversations, lock and models live in the folder `root`."""
    import httpx

    layout = StoreLayout(root)
    require_folder(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
        client = _http_client(server) if server else _persistent_client(layout)
        handle = client.get_or_create_collection(
            collection,
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"embedding_model": embedding_model},
        )
        lexical = LexicalIndex(layout.lexical_path)
        sentences = SentenceVectors(layout.sentences_path)
    except (OSError, ValueError, sqlite3.Error) as exc:
        raise StoreError(f"cannot open the store at {root}: {exc}") from None
    except httpx.TransportError:  # the server went away between connecting and opening the collection
        raise _unreachable(server) from None
    models = (embeddings, sentence_embeddings or embeddings)
    store = Store(client, handle, models, layout, (lexical, sentences), server)
    _check_embedding_model(store, embedding_model)
    return store


def _persistent_client(layout: StoreLayout) -> Any:
    import chromadb

    layout.chroma_dir.mkdir(exist_ok=True)
    return chromadb.PersistentClient(
        path=str(layout.chroma_dir),
        settings=chromadb.Settings(anonymized_telemetry=False, allow_reset=False),
    )


def _http_client(server: str) -> Any:
    """A client of the Chroma server at `server` (validated by settings), checked to answer."""
    import chromadb
    import httpx

    url = urlsplit(server)
    host = f"[{url.hostname}]" if ":" in (url.hostname or "") else url.hostname  # IPv6 literal
    try:
        return chromadb.HttpClient(
            host=host,
            port=url.port,
            ssl=url.scheme == "https",
            settings=chromadb.Settings(anonymized_telemetry=False),
        )
    except (ValueError, httpx.TransportError):  # chromadb turns connection failures into ValueError
        raise _unreachable(server) from None


def _unreachable(server: str) -> StoreError:
    url = urlsplit(server)
    return StoreError(
        f"cannot reach the Chroma server at {server}: is `chroma run --path DIR --host {url.hostname} "
        f"--port {url.port}` running? (or leave store.server empty for the embedded store)"
    )


def lexical_in_step(store: Store) -> bool:
    """Whether the lexical index holds as many chunks as Chroma (a writer at work may make them differ),
    and file parts for the same files (a store made before file parts existed has none)."""
    lexical = store.lexical
    return lexical.count() == store.count() and lexical.paths() == lexical.file_paths()


def bring_lexical_in_step(store: Store) -> None:
    """Rebuild the lexical index if it is out of step with Chroma; only a holder of the write lock may call
    this (a reader would rebuild it under a writer)."""
    if not lexical_in_step(store):
        _rebuild_lexical(store)
    for legacy in store.layout.legacy_lexical_files:  # the FTS5 index it replaces, if any
        legacy.unlink(missing_ok=True)


def _rebuild_lexical(store: Store, page: int = 1000) -> None:
    """Fill the lexical index from the texts Chroma holds (stores made before it existed, or out of step)."""
    store.lexical.clear()
    for offset in range(0, store.count(), page):
        rows = store._collection.get(include=["documents", "metadatas"], limit=page, offset=offset)
        texts = [text or "" for text in rows["documents"]]
        store.lexical.upsert(rows["ids"], texts, [meta or {} for meta in rows["metadatas"]])


def _check_embedding_model(store: Store, configured: str) -> None:
    if store.embedding_model == configured:
        return
    built = f"was built with embedding model '{store.embedding_model}', but settings say '{configured}'"
    setting = _setting_to_restore(store.embedding_model, configured)
    if store.server:
        raise EmbeddingMismatchError(
            f"the collection '{store._collection.name}' on the Chroma server at {store.server} {built}: "
            f"set {setting} back, or use another store.collection and ingest again"
        )
    raise EmbeddingMismatchError(
        f"the store at {store.layout.root} {built}: set {setting} back, or use a new --store and ingest again"
    )


def _setting_to_restore(built: str, configured: str) -> str:
    """`embeddings.backend` when only the backend differs (`model+backend` identities), else the model."""
    same_model = built.split("+", 1)[0] == configured.split("+", 1)[0]
    return "embeddings.backend" if same_model else "embeddings.model"
