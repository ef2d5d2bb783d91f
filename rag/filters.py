"""Restrict a question to some files or folders: `--file NAME` and `--where FOLDER` resolved to paths.

A `--file` value names a file by its name (`report.pdf`), by the end of its path (`2023/report.pdf`) or
by its absolute path; a `--where` value names a folder the same way (`papers`, `papers/2023`, or an
absolute folder) and selects every file under it. Values are matched segment by segment against the
paths the store holds, never opened on disk; a value with a `..` segment is refused, since a filter
only narrows what is already in the store. This module does not search.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import PurePath

from rag.errors import UsageError


def select_paths(known: Iterable[str], files: Sequence[str] = (), folders: Sequence[str] = ()) -> list[str]:
    """The stored paths named by any of `files` or under any of `folders`; sorted, without duplicates."""
    wanted_files = [_parts(value, "--file") for value in files]
    wanted_folders = [_parts(value, "--where") for value in folders]
    selected = set()
    for path in known:
        parts = PurePath(path).parts
        if any(_ends_with(parts, want) for want in wanted_files) or any(
            _contains_folder(parts[:-1], want) for want in wanted_folders
        ):
            selected.add(path)
    if not selected:
        named = ", ".join([*files, *folders])
        raise UsageError(f"no file in the store matches {named}: check the names `askdocs retrieve` shows")
    return sorted(selected)


def _parts(value: str, option: str) -> tuple[str, ...]:
    parts = PurePath(value.strip()).parts
    if not parts:
        raise UsageError(f"{option} needs a file or folder name")
    if ".." in parts:
        raise UsageError(f"{option} {value!r}: '..' is not allowed; name a file or folder inside the store")
    return tuple(p for p in parts if p != ".")


def _ends_with(parts: tuple[str, ...], want: tuple[str, ...]) -> bool:
    if PurePath(*want).is_absolute():
        return parts == want
    return len(want) <= len(parts) and parts[len(parts) - len(want) :] == want


def _contains_folder(folder: tuple[str, ...], want: tuple[str, ...]) -> bool:
    if PurePath(*want).is_absolute():
        return folder[: len(want)] == want
    return any(folder[i : i + len(want)] == want for i in range(len(folder) - len(want) + 1))
