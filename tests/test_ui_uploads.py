"""Upload checks: safe names, supported types only, the size limit, files kept inside the upload folder."""

from pathlib import Path

import pytest

from ui.uploads import sanitize_name, save_upload, supported_types, upload_problem


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\Windows\\evil.PDF", "evil.pdf"),
        ("/abs/path/notes.md", "notes.md"),
        ("Résumé été.docx", "Resume ete.docx"),
        ("a<b>|c?.txt", "a_b_c_.txt"),
        ("..", "document"),
        (".hidden.csv", "hidden.csv"),
    ],
)
def test_sanitize_name_keeps_only_a_plain_last_component(given, expected):
    assert sanitize_name(given) == expected


def test_upload_problem_names_type_size_and_emptiness():
    assert upload_problem("notes.md", 10, max_mb=1) is None
    assert "unsupported file type '.exe'" in upload_problem("setup.exe", 10, max_mb=1)
    assert "over the 1 MB limit" in upload_problem("big.pdf", 2 * 1024 * 1024, max_mb=1)
    assert "empty" in upload_problem("blank.txt", 0, max_mb=1)


def test_supported_types_are_the_loaders_suffixes():
    assert {"pdf", "docx", "pptx", "md", "html", "txt", "csv"} <= set(supported_types())


def test_save_upload_writes_inside_the_folder_only(tmp_path: Path):
    folder = tmp_path / "uploads"
    saved = save_upload(folder, "../../outside.txt", b"hello")
    assert saved == (folder / "outside.txt").resolve()
    assert saved.read_bytes() == b"hello"
    assert not (tmp_path / "outside.txt").exists()
    again = save_upload(folder, "outside.txt", b"newer")
    assert again == saved and saved.read_bytes() == b"newer"
    assert sorted(p.name for p in folder.iterdir()) == ["outside.txt"]
