"""Sync against a real Chroma store with the real embedding model."""

import os
from pathlib import Path

import pytest

from ingest.sync import sync
from rag.components import open_collection, open_manifest
from rag.errors import UsageError


@pytest.fixture
def store(settings, embeddings):
    opened = open_collection(settings, embeddings)
    yield opened
    opened.close()


@pytest.fixture
def manifest(store):
    opened = open_manifest(store)
    yield opened
    opened.close()


def chunk_paths(store) -> list[str]:
    return [m["path"] for m in store._collection.get(include=["metadatas"])["metadatas"]]


def test_first_ingest_adds_every_supported_file(docs, store, manifest, settings, embeddings):
    (docs / ".hidden.txt").write_text("secret")
    (docs / "tool.exe").write_bytes(b"MZ")
    report = sync([docs], store, manifest, settings.chunking)
    assert len(report.added) == 8 and report.failed == [] and report.updated == []
    assert [Path(s["path"]).name for s in report.skipped] == ["tool.exe"]
    assert report.chunks == store.count() == len(embeddings.embedded) > 8
    assert {Path(p).name for p in chunk_paths(store)} == {
        p.name for p in docs.iterdir() if p.suffix != ".exe"
    } - {".hidden.txt"}


def test_reingest_changes_nothing_and_embeds_nothing(docs, store, manifest, settings, embeddings):
    sync([docs], store, manifest, settings.chunking)
    before = store._collection.get()["ids"]
    embeddings.embedded.clear()
    for path in docs.iterdir():  # new mtimes, same content: hashed, not re-embedded
        os.utime(path, (1_700_000_000, 1_700_000_000))
    report = sync([docs], store, manifest, settings.chunking)
    assert embeddings.embedded == []
    assert len(report.unchanged) == 8 and report.added == report.updated == []
    assert sorted(store._collection.get()["ids"]) == sorted(before)


def test_a_folder_named_two_ways_is_stored_once(docs, store, manifest, settings):
    sync([docs], store, manifest, settings.chunking)
    before = sorted(store._collection.get()["ids"])
    roundabout = docs.parent / docs.name / ".." / docs.name  # e.g. ../shared/docs from another folder
    report = sync([roundabout], store, manifest, settings.chunking)
    assert report.added == [] and len(report.unchanged) == 8
    assert sorted(store._collection.get()["ids"]) == before
    assert ".." not in "".join(chunk_paths(store)) and store.lexical.count() == len(before)


def test_files_stored_under_a_path_with_dots_are_stored_once_again(
    docs, store, manifest, settings, monkeypatch
):
    sync([docs], store, manifest, settings.chunking)
    plain = sorted(store._collection.get()["ids"])
    for record in manifest.all():
        store.delete_file(record.path)
        manifest.remove(record.path)
    with monkeypatch.context() as old_behaviour:  # stores made before paths were normalised
        old_behaviour.setattr("ingest.sync.absolute_path", lambda path: Path(path).absolute())
        sync([docs / ".." / docs.name], store, manifest, settings.chunking)
    assert chunk_paths(store) and all(".." in path for path in chunk_paths(store))
    gone = sorted(docs.iterdir())[0]
    gone_record = next(r.path for r in manifest.all() if r.path.endswith(gone.name))
    gone_text = gone.read_bytes()
    gone.unlink()  # a file both stored under a dotted path and vanished is removed once
    report = sync([docs], store, manifest, settings.chunking, prune=True, dry_run=True)
    assert sorted(report.removed) == sorted(r.path for r in manifest.all())
    assert report.removed.count(gone_record) == 1
    gone.write_bytes(gone_text)
    report = sync([docs], store, manifest, settings.chunking)
    assert len(report.removed) == 8 and len(report.added) == 8
    assert sorted(store._collection.get()["ids"]) == plain and store.lexical.count() == len(plain)
    assert not any(".." in path for path in chunk_paths(store) + [r.path for r in manifest.all()])


def test_editing_one_file_reembeds_only_that_file(docs, store, manifest, settings, embeddings):
    sync([docs], store, manifest, settings.chunking)
    embeddings.embedded.clear()
    notes = docs / "release-notes.txt"
    notes.write_text("Version 9.9.9 adds a turbo mode that pulls a shot in 12 seconds.\n", encoding="utf-8")
    report = sync([docs], store, manifest, settings.chunking)
    assert [Path(p).name for p in report.updated] == ["release-notes.txt"]
    assert len(report.unchanged) == 7
    assert len(embeddings.embedded) == 1 and "turbo mode" in embeddings.embedded[0]
    texts = store._collection.get(where={"path": str(notes)})["documents"]
    assert texts == ["Version 9.9.9 adds a turbo mode that pulls a shot in 12 seconds."]
    assert store.lexical.count() == store.count()
    new_chunk = store._collection.get(where={"path": str(notes)})["ids"]
    assert [chunk_id for chunk_id, _ in store.lexical.search("turbo", 5)] == new_chunk
    assert store.lexical.search("eco standby", 5, paths=[str(notes)]) == []  # the old version is gone


def test_moved_files_reuse_their_stored_vectors(docs, store, manifest, settings, embeddings):
    sync([docs], store, manifest, settings.chunking)
    total, embeddings.embedded[:] = store.count(), []
    (docs / "archive").mkdir()
    for name in ("warranty.pdf", "faq.html"):
        (docs / name).rename(docs / "archive" / name)
    report = sync([docs], store, manifest, settings.chunking, prune=True)
    assert len(report.added) == len(report.removed) == 2 and embeddings.embedded == []
    moved = store._collection.get(where={"path": {"$in": report.added}})["ids"]
    assert report.embedded_chunks == 0 and report.reused_chunks == len(moved) > 2
    assert store.count() == store.lexical.count() == total
    found = store.search("How long does the warranty last?", 1)[0][0]
    assert found.metadata["path"] == str(docs / "archive" / "warranty.pdf")


def test_editing_one_section_reembeds_only_that_section(tmp_path, store, manifest, settings, embeddings):
    guide = tmp_path / "guide.md"
    sections = ["## Filling\n\nFill the tank with cold water.", "## Descaling\n\nDescale every 8 weeks."]
    guide.write_text("\n\n".join([*sections, "## Storage\n\nKeep the machine dry."]))
    first = sync([guide], store, manifest, settings.chunking)
    assert first.embedded_chunks == 3 and first.reused_chunks == 0
    embeddings.embedded.clear()
    guide.write_text("\n\n".join([*sections, "## Storage\n\nKeep the machine dry and unplugged."]))
    report = sync([guide], store, manifest, settings.chunking)
    assert report.updated == [str(guide)] and (report.embedded_chunks, report.reused_chunks) == (1, 2)
    assert len(embeddings.embedded) == 1 and "unplugged" in embeddings.embedded[0]
    assert sorted(store._collection.get()["documents"]) == [
        "Descale every 8 weeks.",
        "Fill the tank with cold water.",
        "Keep the machine dry and unplugged.",
    ]


def test_a_text_repeated_in_a_file_is_embedded_once(tmp_path, store, manifest, settings, embeddings):
    notes = tmp_path / "notes.md"
    notes.write_text(
        "## Note\n\nUnplug before cleaning.\n\n## Other\n\nWipe it.\n\n## Note\n\nUnplug before cleaning."
    )
    report = sync([notes], store, manifest, settings.chunking)
    assert (report.embedded_chunks, report.reused_chunks, store.count()) == (2, 1, 3)
    assert len(embeddings.embedded) == 2


def test_prune_and_dry_run(docs, store, manifest, settings):
    sync([docs], store, manifest, settings.chunking)
    total = store.count()
    faq = docs / "faq.html"
    faq_chunks = len(store._collection.get(where={"path": str(faq)})["ids"])
    faq.unlink()

    kept = sync([docs], store, manifest, settings.chunking)
    assert kept.missing == [str(faq)] and kept.removed == [] and store.count() == total

    preview = sync([docs], store, manifest, settings.chunking, prune=True, dry_run=True)
    assert preview.removed == [str(faq)] and store.count() == total and manifest.get(str(faq))

    pruned = sync([docs], store, manifest, settings.chunking, prune=True)
    assert pruned.removed == [str(faq)] and store.count() == total - faq_chunks
    assert str(faq) not in chunk_paths(store) and manifest.get(str(faq)) is None
    assert str(faq) not in store.lexical.paths() and store.lexical.count() == store.count()


def test_dry_run_on_new_files_writes_nothing(docs, store, manifest, settings, embeddings):
    report = sync([docs], store, manifest, settings.chunking, dry_run=True)
    assert (
        len(report.added) == 8 and store.count() == 0 and manifest.all() == [] and embeddings.embedded == []
    )


def test_bad_file_is_reported_and_the_run_goes_on(docs, store, manifest, settings):
    (docs / "broken.pdf").write_bytes(b"%PDF-1.7\nnot really a pdf")
    (docs / "empty.md").write_text("")
    report = sync([docs], store, manifest, settings.chunking)
    assert [Path(f["path"]).name for f in report.failed] == ["broken.pdf"]
    assert "PDF" in report.failed[0]["error"]
    assert [Path(s["path"]).name for s in report.skipped] == ["empty.md"]
    assert len(report.added) == 8


def test_failed_update_keeps_the_old_version(docs, store, manifest, settings):
    sync([docs], store, manifest, settings.chunking)
    pdf = docs / "warranty.pdf"
    old = store._collection.get(where={"path": str(pdf)})["ids"]
    pdf.write_bytes(b"%PDF-1.7 corrupted on disk")
    report = sync([docs], store, manifest, settings.chunking)
    assert [Path(f["path"]).name for f in report.failed] == ["warranty.pdf"] and report.updated == []
    assert store._collection.get(where={"path": str(pdf)})["ids"] == old


def test_single_files_and_missing_paths(docs, store, manifest, settings):
    report = sync([docs / "faq.html", docs / "faq.html"], store, manifest, settings.chunking)
    assert len(report.added) == 1
    with pytest.raises(UsageError, match="no such file"):
        sync([docs / "nope"], store, manifest, settings.chunking)


def test_new_chunking_recipe_reingests_without_leftovers(docs, store, manifest, settings, embeddings):
    sync([docs], store, manifest, settings.chunking)
    embeddings.embedded.clear()
    smaller = settings.chunking.model_copy(update={"size": 400, "overlap": 50})
    report = sync([docs], store, manifest, smaller)
    assert len(report.updated) == 8 and store.count() == report.embedded_chunks + report.reused_chunks
    assert report.embedded_chunks == len(embeddings.embedded) > report.reused_chunks
    versions = {m["version"] for m in store._collection.get(include=["metadatas"])["metadatas"]}
    assert len(versions) == 8  # one version per file, none left from the old recipe
    assert store.lexical.count() == store.count()
    assert len(sync([docs], store, manifest, smaller).unchanged) == 8
