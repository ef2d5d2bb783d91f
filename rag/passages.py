"""Passages: retrieved chunks as citable sources (file, page, heading, text, score).

This module only shapes data; it does not search (see `rag.retrieve`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.documents import Document


@dataclass(frozen=True)
class Passage:
    """One retrieved chunk, numbered by rank from 1."""

    rank: int
    file: str
    path: str
    page: int | None
    heading: str
    chunk_id: str
    score: float
    text: str

    @classmethod
    def from_document(cls, rank: int, doc: Document, score: float) -> Passage:
        meta: dict[str, Any] = doc.metadata or {}
        return cls(
            rank=rank,
            file=str(meta.get("file", "")),
            path=str(meta.get("path", "")),
            page=meta.get("page"),
            heading=str(meta.get("heading", "")),
            chunk_id=str(doc.id or ""),
            score=round(float(score), 4),
            text=doc.page_content,
        )

    @property
    def location(self) -> str:
        """Where the passage is, for people: `file p.3` or `file › heading`."""
        if self.page is not None:
            return f"{self.file} p.{self.page}"
        return f"{self.file} › {self.heading}" if self.heading else self.file

    def retrieve_json(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "file": self.file,
            "path": self.path,
            "page": self.page,
            "heading": self.heading,
            "chunk_id": self.chunk_id,
            "score": self.score,
            "text": self.text,
        }

    def source_json(self, cited: bool) -> dict[str, Any]:
        fields = self.retrieve_json()
        return {"n": fields.pop("rank"), **fields, "cited": cited}


def best_score(passages: Sequence[Passage]) -> float:
    """The best cosine similarity among `passages` (0 when there are none): what `retrieval.min_score` is
    held to."""
    return max((p.score for p in passages), default=0.0)
