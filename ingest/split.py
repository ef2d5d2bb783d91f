"""Split a file's sections into chunks with deterministic ids and citation metadata.

Chunks never cross a page or heading boundary. Each chunk keeps its own text (shown to people and to the
model) and an embedding text that prefixes the document title and heading path, so a passage is found
by what it is about even when its own words don't say it; the hash of that embedding text
(`embed_hash`) lets a sync reuse a vector already stored for the same text. This module does not load
or embed anything.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_text_splitters import RecursiveCharacterTextSplitter

from ingest.loaders import Section
from rag.settings import ChunkingSettings


@dataclass(frozen=True)
class Chunk:
    """One passage ready to embed and store."""

    id: str
    text: str
    embed_text: str
    metadata: dict[str, Any]


def file_version(file_sha: str, recipe: str) -> str:
    """One file's content under one chunking recipe: what its chunks are derived from."""
    return _digest(file_sha, recipe)


def chunk_id(path: str, version: str, index: int) -> str:
    """Stable id: the same file version at the same path always gives the same ids."""
    return _digest(path, version, str(index))


def text_hash(text: str) -> str:
    """What identifies an embedding text: chunks with the same one get the same vector."""
    return _digest(text)


def _digest(*parts: str) -> str:
    """SHA-256 of the parts joined by NUL, as 32 hex digits."""
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:32]


def split_sections(
    sections: Iterable[Section], path: Path, version: str, chunking: ChunkingSettings
) -> Iterator[Chunk]:
    """Chunks of at most `chunking.size` characters with path, page, heading and version, made as the
    sections arrive (a streamed file is never held whole)."""
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=chunking.size,
        chunk_overlap=min(chunking.overlap, chunking.size // 2),
        strip_whitespace=True,
    )
    index = 0
    for section in sections:
        for text in splitter.split_text(section.text):
            embed = embedding_text(path, section.heading, text, chunking.context_prefix)
            metadata = {**_metadata(section, path, version, index), "embed_hash": text_hash(embed)}
            yield Chunk(chunk_id(str(path), version, index), text, embed, metadata)
            index += 1


def _metadata(section: Section, path: Path, version: str, index: int) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "path": str(path),
        "file": path.name,
        "version": version,
        "chunk_index": index,
        "heading": section.heading,
    }
    if section.page is not None:
        metadata["page"] = section.page
    return metadata


def embedding_text(path: Path, heading: str, text: str, context_prefix: bool = True) -> str:
    """The text that is embedded: with `context_prefix`, title and heading path, then the passage."""
    if not context_prefix:
        return text
    title = path.stem.replace("_", " ").replace("-", " ")
    context = f"{title} | {heading}" if heading else title
    return f"{context}\n{text}"
