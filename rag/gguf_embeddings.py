"""Embedding models in GGUF files, run by llama.cpp (llama-cpp-python) on the CPU.

A text is embedded alone (llama.cpp pools the model's token vectors as the file says: mean for
nomic-embed-text), cut to the context window if longer, and normalised for cosine search. Models trained
with task prefixes get them: nomic-embed-text reads "search_query: " before a question and
"search_document: " before a passage. Measured on 2 cores: ~0.14 s per 800-character chunk, ~20 ms per
question for nomic-embed-text-v1.5 f16 (see README).

This module does not find or assemble model files (`rag.embeddings`, `rag.packaged`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from rag.errors import ModelError
from rag.settings import for_family

# Task prefixes by model family, matched against the file name.
_PREFIXES = {"nomic-embed-text": ("search_query: ", "search_document: ")}
_N_CTX = 2048  # tokens: an 800-character chunk takes ~200


def known_prefixes(path: Path) -> tuple[str, str]:
    """(query prefix, document prefix) the model in `path` was trained with; ("", "") if none is known."""
    return for_family(str(path), _PREFIXES, ("", ""))


class GgufEmbeddings(Embeddings):
    """A GGUF embedding model: questions and documents embedded with their own prefixes."""

    def __init__(self, path: Path, threads: int, prefixes: tuple[str, str]) -> None:
        self._model = _load(path, threads)
        self._query_prefix, self._document_prefix = prefixes

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._embed(self._document_prefix + text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._embed(self._query_prefix + text)

    def _embed(self, text: str) -> list[float]:
        vector = np.asarray(self._model.embed(text, truncate=True), dtype=np.float32)
        return (vector / (np.linalg.norm(vector) or 1.0)).tolist()


def _load(path: Path, threads: int) -> Any:
    from llama_cpp import Llama

    if not path.is_file():
        raise ModelError(f"embedding model {path} does not exist: set embeddings.model to a .gguf file")
    try:
        return Llama(
            model_path=str(path),
            embedding=True,
            n_ctx=_N_CTX,
            n_batch=_N_CTX,
            n_ubatch=_N_CTX,
            n_threads=threads,
            verbose=False,
        )
    except ValueError as exc:  # llama.cpp could not read the file
        raise ModelError(f"cannot load embedding model {path}: {exc}".splitlines()[0]) from None
