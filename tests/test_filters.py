import pytest

from rag.errors import UsageError
from rag.filters import select_paths

KNOWN = [
    "/home/ann/papers/2023/attention.pdf",
    "/home/ann/papers/2024/report.pdf",
    "/home/ann/notes/report.pdf",
    "/home/ann/notes/todo.md",
]


@pytest.mark.parametrize(
    ("files", "folders", "expected"),
    [
        (["report.pdf"], [], ["/home/ann/notes/report.pdf", "/home/ann/papers/2024/report.pdf"]),
        (["2024/report.pdf"], [], ["/home/ann/papers/2024/report.pdf"]),
        (["/home/ann/notes/todo.md"], [], ["/home/ann/notes/todo.md"]),
        ([], ["papers"], ["/home/ann/papers/2023/attention.pdf", "/home/ann/papers/2024/report.pdf"]),
        ([], ["papers/2023/"], ["/home/ann/papers/2023/attention.pdf"]),
        ([], ["/home/ann/notes"], ["/home/ann/notes/report.pdf", "/home/ann/notes/todo.md"]),
        (["todo.md"], ["2023"], ["/home/ann/notes/todo.md", "/home/ann/papers/2023/attention.pdf"]),
    ],
)
def test_files_and_folders_select_stored_paths(files, folders, expected):
    assert select_paths(KNOWN, files, folders) == expected


def test_partial_names_do_not_match():
    with pytest.raises(UsageError, match="no file in the store matches port.pdf, pap"):
        select_paths(KNOWN, ["port.pdf"], ["pap"])
    with pytest.raises(UsageError, match="no file"):
        select_paths(KNOWN, [], ["todo.md"])  # a file is not a folder


@pytest.mark.parametrize("value", ["../secret.pdf", "papers/../../etc", ".."])
def test_parent_segments_are_refused(value):
    with pytest.raises(UsageError, match=r"'\.\.' is not allowed"):
        select_paths(KNOWN, [value], [])
    with pytest.raises(UsageError, match=r"'\.\.' is not allowed"):
        select_paths(KNOWN, [], [value])


def test_empty_value_is_refused():
    with pytest.raises(UsageError, match="needs a file or folder name"):
        select_paths(KNOWN, ["  "], [])
