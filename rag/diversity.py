"""Spread the top passages over more files: a soft penalty on repeats, and a hard per-file cap.

Questions that need several documents (compare two quarters, two papers) lose when the best file fills
every slot. `penalise_repeats` picks passages one by one, each time taking the best score minus
`penalty` times the number already taken from the same file: a second passage from a file must beat
other files' candidates by that margin, so a clearly better passage still gets in. `cap_per_file` keeps
the ranking's order and only skips a file's passages beyond the cap while other candidates remain; if
too few other files are among the candidates, the skipped ones fill the remaining slots, so the answer
never gets fewer than k passages. This module does not search or score.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def penalise_repeats(
    ranked: Sequence[tuple[T, float]], k: int, penalty: float, file_of: Callable[[T], str]
) -> list[tuple[T, float]]:
    """Up to k (item, score) pairs chosen greedily by score minus `penalty` per passage already taken
    from the item's file (0: the ranking as it is); ties keep the ranking's order."""
    if penalty <= 0:
        return list(ranked[:k])
    pool = [(item, score, file_of(item)) for item, score in ranked]
    taken: list[tuple[T, float]] = []
    per_file: dict[str, int] = {}
    while pool and len(taken) < k:
        best = max(range(len(pool)), key=lambda i: pool[i][1] - penalty * per_file.get(pool[i][2], 0))
        item, score, name = pool.pop(best)
        taken.append((item, score))
        per_file[name] = per_file.get(name, 0) + 1
    return taken


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
