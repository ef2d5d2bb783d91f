"""Split a file's sections into chunks with deterministic ids and citation metadata.

Chunks never cross a page or heading boundary. Each chunk keeps its own text (shown to people and to the
model) and an embedding text that prefixes the document title and heading path, so a passage is found
by what it is about even when its own words don't say it. This module does not load or embed anything.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_text_splitters import RecursiveCharacterTextSplitter

from ingest.loaders import Section


@dataclass(frozen=True)
class Chunk:
    """One passage ready to embed and store."""

    id: str
    text: str
    embed_text: str
    metadata: dict[str, Any]


def chunk_id(path: str, file_sha: str, index: int) -> str:
    """Stable id: the same file content at the same path always gives the same ids."""
    return hashlib.sha256(f"{path}\x00{file_sha}\x00{index}".encode()).hexdigest()[:32]


def split_sections(
    sections: list[Section], path: Path, file_sha: str, size: int, overlap: int
) -> list[Chunk]:
    """Chunks of at most `size` characters (overlapping by `overlap`) with path, page and heading."""
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=size, chunk_overlap=min(overlap, size // 2), strip_whitespace=True
    )
    chunks: list[Chunk] = []
    for section in sections:
        for text in splitter.split_text(section.text):
            chunks.append(_make_chunk(text, section, path, file_sha, len(chunks)))
    return chunks


def _make_chunk(text: str, section: Section, path: Path, file_sha: str, index: int) -> Chunk:
    metadata: dict[str, Any] = {
        "path": str(path),
        "file": path.name,
        "file_sha": file_sha,
        "chunk_index": index,
        "heading": section.heading,
    }
    if section.page is not None:
        metadata["page"] = section.page
    return Chunk(
        chunk_id(str(path), file_sha, index), text, embedding_text(path, section.heading, text), metadata
    )


def embedding_text(path: Path, heading: str, text: str) -> str:
    """The text that is embedded: title and heading path, then the passage."""
    title = path.stem.replace("_", " ").replace("-", " ")
    context = f"{title} | {heading}" if heading else title
    return f"{context}\n{text}"
