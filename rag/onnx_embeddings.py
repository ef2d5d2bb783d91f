"""The ONNX embedding backends: export a sentence-transformers folder to ONNX once, then run it.

`onnx` is the fp32 export (BERT-family kernels fused), `onnx-int8` the same with its MatMul weights
quantized. An export is traced with torch, checked against torch on a padded batch (and the run-time
tokenizer against transformers'), written to a scratch folder and moved into place with a record of the
source files and recipe; a later build reuses it while that record matches. It is looked for first in
the installation's exports (`installed_exports_dir`, filled by `make install`), then in the folder the
caller passes (a store's `models/embeddings/`). Running one needs only ONNX Runtime, the `tokenizers`
library and NumPy: neither torch nor transformers is imported. This module does not choose the backend
or resolve model names (see `rag.embeddings`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import sys
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from rag.errors import ModelError
from rag.settings import PACKAGED_EMBEDDING_MODEL, EmbeddingSettings

ONNX_FP32_FILE = "model.onnx"
ONNX_INT8_FILE = "model-int8.onnx"
_EXPORT_FILES = {"onnx": ONNX_FP32_FILE, "onnx-int8": ONNX_INT8_FILE}
_EXPORT_INFO = "export.json"
_EXPORT_FORMAT = 2  # bump when the export recipe changes, so old exports are made again
_EXPORT_TOLERANCE = 1e-3  # largest difference from torch the fp32 export may show before quantization
_SUPPORTED_MODULES = {"Transformer", "Pooling", "Normalize"}


def installed_exports_dir() -> Path:
    """Exports made at install time (`python -m rag.embeddings`), shared by every store of this Python."""
    return Path(sys.prefix) / "share" / "askdocs" / "embeddings"


def build_onnx_embeddings(settings: EmbeddingSettings, folder: Path, export_root: Path | None) -> Embeddings:
    """The configured ONNX backend over the model in `folder`: the installation's export if it has this
    model's, else the one in `export_root` (made there first if needed)."""
    name, file = export_name(settings.model, folder, settings.backend), _EXPORT_FILES[settings.backend]
    installed = installed_exports_dir() / name
    if _export_matches(installed, _source_info(folder), file):
        onnx_file = installed / file
    elif export_root is None:
        raise ModelError(f"the {settings.backend} embedding backend needs a folder to keep its export in")
    else:
        onnx_file = onnx_export(folder, export_root / name, settings.backend)
    return OnnxEmbeddings(onnx_file, folder, settings.batch_size, settings.query_threads)


def export_name(name: str, folder: Path, backend: str) -> str:
    """The export folder's name: the packaged model's name, or a local folder's name and path hash,
    then the backend."""
    if name == PACKAGED_EMBEDDING_MODEL:
        return f"{name}-{backend}"
    key = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:8]
    return f"{folder.name}-{key}-{backend}"


def onnx_export(folder: Path, target: Path, backend: str) -> Path:
    """The `backend`'s ONNX file (fp32 for `onnx`, quantized for `onnx-int8`) of the model in `folder`,
    made in `target` unless an export of this very model (same files, same recipe) is already there.
    Written to a scratch folder and moved into place, so an interrupted export leaves nothing half-made."""
    info, file = _source_info(folder), _EXPORT_FILES[backend]
    if _export_matches(target, info, file):
        return target / file
    _check_modules(folder, backend)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
        scratch.chmod(0o755)  # readable like the folder it replaces (mkdtemp makes it private)
    except OSError as exc:
        raise ModelError(f"cannot write the {backend} export under {target.parent}: {exc}") from None
    try:
        _export_into(folder, scratch, backend)
        (scratch / _EXPORT_INFO).write_text(json.dumps(info, indent=1), encoding="utf-8")
        _move_into_place(scratch, target, info, file)
    except (OSError, RuntimeError, ValueError) as exc:
        raise ModelError(f"cannot export {folder} to {backend} ONNX: {exc}".splitlines()[0]) from None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target / file


def _export_into(folder: Path, scratch: Path, backend: str) -> None:
    """The fp32 export, quantized (and the fp32 file dropped) for `onnx-int8`."""
    with _quiet():
        _export_fp32(folder, scratch / ONNX_FP32_FILE, fuse=backend == "onnx")
        if backend == "onnx-int8":
            _quantize(scratch / ONNX_FP32_FILE, scratch / ONNX_INT8_FILE)
            (scratch / ONNX_FP32_FILE).unlink()


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


def _export_matches(target: Path, info: dict[str, Any], file: str) -> bool:
    try:
        recorded = json.loads((target / _EXPORT_INFO).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return recorded == info and (target / file).is_file()


def _move_into_place(scratch: Path, target: Path, info: dict[str, Any], file: str) -> None:
    """Replace a stale export by the new one; another process that finished first wins."""
    if target.exists() and not _export_matches(target, info, file):
        shutil.rmtree(target)
    try:
        scratch.rename(target)
    except OSError:
        if not _export_matches(target, info, file):
            raise


def _check_modules(folder: Path, backend: str) -> None:
    """The ONNX backends run Transformer + Pooling (+ Normalize) models with a `tokenizer.json`; refuse
    others by name."""
    kinds = {module["type"].rsplit(".", 1)[-1] for module in _modules(folder)}
    if not kinds <= _SUPPORTED_MODULES or _pooling_mode(folder) is None:
        raise ModelError(
            f"the {backend} backend runs Transformer + Pooling (mean or CLS) models; {folder} has "
            f"{sorted(kinds)}: use embeddings.backend: torch"
        )
    if not (folder / "tokenizer.json").is_file():
        raise ModelError(
            f"the {backend} backend needs the model's tokenizer.json, which {folder} lacks: "
            "use embeddings.backend: torch"
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


def _max_length(folder: Path) -> int:
    """The sentence-transformers sequence limit, else the tokenizer's (at most 512)."""
    path = folder / "sentence_bert_config.json"
    if path.is_file():
        return int(json.loads(path.read_text(encoding="utf-8"))["max_seq_length"])
    return min(int(_tokenizer_config(folder).get("model_max_length", 512)), 512)


def _tokenizer_config(folder: Path) -> dict[str, Any]:
    path = folder / "tokenizer_config.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def fast_tokenizer(folder: Path) -> Any:
    """The folder's `tokenizer.json` as transformers would run it for the model: truncated at the model's
    limit, padded to the longest text of a batch (the file's own fixed padding and limit are replaced)."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    pad = _tokenizer_config(folder).get("pad_token") or "[PAD]"
    pad = pad["content"] if isinstance(pad, dict) else pad
    pad_id = tokenizer.token_to_id(pad)
    if pad_id is None:
        raise ModelError(
            f"the tokenizer in {folder} has no padding token '{pad}': use embeddings.backend: torch"
        )
    tokenizer.enable_truncation(_max_length(folder))
    tokenizer.enable_padding(pad_id=pad_id, pad_token=pad)
    return tokenizer


def _tokenizer(folder: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(folder), local_files_only=True)


def _export_fp32(folder: Path, path: Path, fuse: bool = False) -> None:
    """Trace the folder's transformer to ONNX (dynamic batch and length), with `fuse` fuse its kernels,
    then check it against torch."""
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
    if fuse:
        _fuse(folder, path)
    _verify_export(path, folder, tokenizer, model, names)


def _fuse(folder: Path, path: Path) -> None:
    """Give a BERT-family graph ONNX Runtime's fused attention, skip-layer-norm and GELU kernels (~7 %
    faster embedding measured here; the vectors move by ~1e-7); other models stay as traced. Not for
    int8: fused attention hides the MatMuls the quantizer works on."""
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    if config.get("model_type") != "bert":
        return
    from onnxruntime.transformers import optimizer

    heads, hidden = config["num_attention_heads"], config["hidden_size"]
    fused = optimizer.optimize_model(str(path), "bert", num_heads=heads, hidden_size=hidden, opt_level=1)
    fused.save_model_to_file(str(path))


def _verify_export(path: Path, folder: Path, tokenizer: Any, model: Any, names: list[str]) -> None:
    """Refuse an export that does not reproduce torch on a batch of another shape, with padding, or whose
    run-time tokenizer (`fast_tokenizer`) does not give transformers' inputs."""
    import numpy as np
    import torch

    texts = ["one", "a check of the exported model on other lengths, Numbers 1,234 and ÉTÉ", "two words"]
    batch = tokenizer(texts, padding=True, truncation=True, max_length=_max_length(folder))
    arrays = {name: np.asarray(batch[name], dtype=np.int64) for name in names}
    fast = encode_batch(fast_tokenizer(folder), texts, names)
    if any(not np.array_equal(fast[name], arrays[name]) for name in names):
        raise RuntimeError("the model's tokenizer.json does not tokenize as transformers does")
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
    """An exported model run by ONNX Runtime: tokenized by the source folder's `tokenizer.json`, pooled as the
    folder says, normalised. Texts are embedded longest first, so a batch holds texts of similar length."""

    def __init__(self, onnx_file: Path, folder: Path, batch_size: int, query_threads: int) -> None:
        self._tokenizer = fast_tokenizer(folder)
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

        arrays = encode_batch(self._tokenizer, texts, self._inputs)
        hidden = session.run(None, arrays)[0]
        if self._pooling == "cls":
            pooled = hidden[:, 0]
        else:
            mask = arrays["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


_ENCODING_FIELDS = {"input_ids": "ids", "attention_mask": "attention_mask", "token_type_ids": "type_ids"}


def encode_batch(tokenizer: Any, texts: list[str], names: list[str]) -> dict[str, Any]:
    """The model inputs `names` for `texts`, as int64 arrays of one padded length."""
    import numpy as np

    encodings = tokenizer.encode_batch(texts)
    return {
        name: np.asarray([getattr(e, _ENCODING_FIELDS[name]) for e in encodings], dtype=np.int64)
        for name in names
    }
