"""The collection panel's logic on a real store: add with progress, remove, re-sync, reports."""

import shutil
from pathlib import Path

from rag.components import collection_and_manifest
from ui.collection import (
    collection_info,
    files_table,
    ingest_paths,
    remove_file,
    report_problems,
    report_summary,
    resync,
)

DATA = Path(__file__).resolve().parent.parent / "data"


def test_add_remove_resync(settings, tmp_path: Path):
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(DATA / "release-notes.txt", folder)
    shutil.copy(DATA / "setup-guide.md", folder)
    (folder / "tool.exe").write_bytes(b"MZ")
    (folder / "broken.pdf").write_bytes(b"not a pdf at all")
    calls = []
    with collection_and_manifest(settings) as (store, manifest):
        report = ingest_paths([folder], store, manifest, settings.chunking, lambda *a: calls.append(a))
        assert sorted(Path(p).name for p in report.added) == ["release-notes.txt", "setup-guide.md"]
        assert [Path(e["path"]).name for e in report.failed] == ["broken.pdf"]
        assert [c[:2] for c in calls] == [(0, 3), (1, 3), (2, 3), (3, 3)]
        assert "2 added" in report_summary(report) and "1 failed" in report_summary(report)
        problems = report_problems(report)
        assert problems[0].startswith("broken.pdf: ") and "tool.exe skipped: unsupported" in problems[1]

        info = collection_info(store, manifest)
        assert (info.files, info.chunks > 0, info.last_sync_text != "never") == (2, True, True)
        assert info.chunks == store.count()  # the lexical index's count is Chroma's
        rows = files_table(manifest)
        assert [r["file"] for r in rows] == ["release-notes.txt", "setup-guide.md"]

        remove_file(store, manifest, rows[0]["path"])
        assert [r["file"] for r in files_table(manifest)] == ["setup-guide.md"]
        assert store.count() == rows[1]["chunks"] == collection_info(store, manifest).chunks

        (folder / "setup-guide.md").unlink()
        again = resync(store, manifest, settings.chunking)
        assert [Path(p).name for p in again.removed] == ["setup-guide.md"]
        assert (store.count(), files_table(manifest)) == (0, [])
