"""Spread the top passages over more files: a cap on how many of the top k may come from one file.

Questions that need several documents (compare two quarters, two papers) lose when the best file fills
every slot. The cap keeps the ranking's order and only skips a file's passages beyond the cap while
other candidates remain; if too few other files are among the candidates, the skipped ones fill the
remaining slots, so the answer never gets fewer than k passages. This module does not search or score.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def cap_per_file(ranked: Sequence[T], k: int, max_per_file: int, file_of: Callable[[T], str]) -> list[T]:
    """The first k items of `ranked` taking at most `max_per_file` per file (0: no cap), order kept."""
    if max_per_file <= 0:
        return list(ranked[:k])
    taken: list[T] = []
    skipped: list[T] = []
    per_file: dict[str, int] = {}
    for item in ranked:
        name = file_of(item)
        if per_file.get(name, 0) < max_per_file:
            taken.append(item)
            per_file[name] = per_file.get(name, 0) + 1
        else:
            skipped.append(item)
        if len(taken) == k:
            return taken
    filled = set(map(id, taken + skipped[: k - len(taken)]))
    return [item for item in ranked if id(item) in filled]
