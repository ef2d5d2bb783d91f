"""Uploaded documents: check them and save them safely under the store's `uploads/` folder.

A name is reduced to its last path component and to letters, digits, dots, dashes, underscores and
spaces, so no upload can land outside the folder; only formats the loaders read are accepted, and a size
limit (`ui.upload_max_mb`) is enforced. Saving a name that exists replaces the file (a newer version of
the same document). This module does not ingest anything (see `ui.collection`) and does not use Streamlit.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from ingest.loaders import LOADERS

UPLOAD_FOLDER = "uploads"
_UNSAFE = re.compile(r"[^A-Za-z0-9._\- ]+")


def supported_types() -> list[str]:
    """File suffixes the page accepts, without dots (for the uploader's `type=`)."""
    return sorted(suffix.lstrip(".") for suffix in LOADERS)


def sanitize_name(name: str) -> str:
    """A safe file name: last path component only, plain characters, no leading dots, at most 120 chars."""
    base = re.split(r"[\\/]", name)[-1]
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode()
    base = _UNSAFE.sub("_", base).strip(" .")
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = stem[: 120 - len(suffix) - 1].strip(" .") or "document"
    return f"{stem}.{suffix.lower()}" if suffix else stem


def upload_problem(name: str, size: int, max_mb: int) -> str | None:
    """Why an upload is refused (one line), or None when it is acceptable."""
    suffix = Path(sanitize_name(name)).suffix.lower()
    if suffix not in LOADERS:
        supported = ", ".join(supported_types())
        return f"{name}: unsupported file type '{suffix or '(none)'}' (supported: {supported})"
    if size > max_mb * 1024 * 1024:
        return f"{name}: {size / 1024 / 1024:.1f} MB is over the {max_mb} MB limit (ui.upload_max_mb)"
    if size == 0:
        return f"{name}: the file is empty"
    return None


def save_upload(folder: Path, name: str, data: bytes) -> Path:
    """Write `data` as `folder/<sanitised name>` and return the path (always inside `folder`)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = (folder / sanitize_name(name)).resolve()
    if target.parent != folder.resolve():
        raise ValueError(f"refusing to write {name!r} outside {folder}")
    scratch = target.with_name(f".{target.name}.part")
    scratch.write_bytes(data)
    scratch.replace(target)
    return target
