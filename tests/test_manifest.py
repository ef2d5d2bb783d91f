from ingest.manifest import Manifest


def test_record_touch_remove_survive_reopen(tmp_path):
    db = tmp_path / "m.sqlite"
    manifest = Manifest(db)
    manifest.record("/a.txt", "sha", "size=1000", 10, 111, 3)
    manifest.touch("/a.txt", 12, 222)
    manifest.close()

    reopened = Manifest(db)
    record = reopened.get("/a.txt")
    assert (record.sha256, record.recipe, record.size, record.mtime_ns, record.chunks) == (
        "sha",
        "size=1000",
        12,
        222,
        3,
    )
    assert reopened.last_sync() is not None
    reopened.remove("/a.txt")
    assert reopened.get("/a.txt") is None and reopened.all() == []
    reopened.close()
