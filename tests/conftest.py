"""Shared fixtures: the real embedding model (loaded once), temporary stores, a copy of data/."""

from __future__ import annotations

from rag.offline import apply_offline_environment

apply_offline_environment(force=True)

import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from langchain_core.embeddings import Embeddings  # noqa: E402

from rag.embeddings import build_embeddings  # noqa: E402
from rag.settings import Settings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"


class CountingEmbeddings(Embeddings):
    """The real model, counting how many texts it embeds."""

    def __init__(self, inner: Embeddings) -> None:
        self.inner = inner
        self.embedded: list[str] = []

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.embedded.extend(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


@pytest.fixture(scope="session")
def real_embeddings() -> Embeddings:
    """The shipped default: the packaged model run by ONNX Runtime from the installation's export."""
    return build_embeddings(Settings().embeddings)


@pytest.fixture(scope="session")
def torch_embeddings() -> Embeddings:
    """The same model run by sentence-transformers (torch), to compare the ONNX backends with."""
    from rag.settings import EmbeddingSettings

    return build_embeddings(EmbeddingSettings(backend="torch"))


@pytest.fixture(scope="session")
def nomic_embeddings(tmp_path_factory) -> Embeddings:
    """The packaged GGUF embedding model (nomic-embed-text-v1.5) on llama.cpp, from the installation."""
    from rag.settings import PACKAGED_GGUF_EMBEDDING_MODEL, EmbeddingSettings

    settings = EmbeddingSettings(model=PACKAGED_GGUF_EMBEDDING_MODEL)
    return build_embeddings(settings, tmp_path_factory.mktemp("unused-models"))


@pytest.fixture
def embeddings(real_embeddings: Embeddings) -> CountingEmbeddings:
    return CountingEmbeddings(real_embeddings)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings().with_store(tmp_path / "store")


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    """A private copy of the sample collection, safe to edit."""
    target = tmp_path / "docs"
    shutil.copytree(DATA, target)
    return target


@pytest.fixture(scope="session")
def sample_store(tmp_path_factory, real_embeddings):
    """data/ ingested once into a store shared by read-only tests."""
    from ingest.sync import sync
    from rag.components import open_collection, open_manifest

    settings = Settings().with_store(tmp_path_factory.mktemp("sample") / "store")
    store = open_collection(settings, real_embeddings)
    manifest = open_manifest(store)
    sync([DATA], store, manifest, settings.chunking)
    manifest.close()
    yield store
    store.close()
