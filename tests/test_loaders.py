import time
import tracemalloc
from pathlib import Path

import pytest
from pypdf import PdfWriter

from ingest.loaders import (
    TEXT_BLOCK,
    LoadError,
    load_csv,
    load_pdf,
    load_structured,
    load_text,
    loader_for,
    text_encoding,
)

DATA = Path(__file__).resolve().parent.parent / "data"


def test_pdf_pages_are_numbered_from_one_and_keep_their_text():
    sections = load_pdf(DATA / "warranty.pdf")
    assert [s.page for s in sections] == [1, 2, 3]
    assert "two-year" in sections[0].text.lower()
    assert "claims@larkspur.example" in sections[2].text


def test_pdf_without_text_layer_is_reported_as_scanned(tmp_path):
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    path = tmp_path / "scan.pdf"
    with path.open("wb") as handle:
        writer.write(handle)
    with pytest.raises(LoadError, match="no text layer"):
        load_pdf(path)


def test_truncated_pdf_is_a_load_error(tmp_path):
    path = tmp_path / "broken.pdf"
    path.write_bytes((DATA / "warranty.pdf").read_bytes()[:300])
    with pytest.raises(LoadError):
        load_pdf(path)


@pytest.mark.parametrize(
    ("name", "heading_part", "fact"),
    [
        ("setup-guide.md", "First fill", "1.8 litres"),
        ("faq.html", "dishwasher", "top rack"),
        ("maintenance.docx", "Descaling", "180 ppm"),
    ],
)
def test_structured_formats_keep_headings(name, heading_part, fact):
    sections = load_structured(DATA / name)
    holding = [s for s in sections if fact in s.text]
    assert holding, f"{fact!r} not found in {name}"
    assert heading_part.lower() in holding[0].heading.lower()


def test_slides_are_pages():
    sections = load_structured(DATA / "onboarding-slides.pptx")
    pages = {s.page for s in sections}
    assert pages == {1, 2, 3, 4}
    assert any("Ghent" in s.text and s.page == 1 for s in sections)


def test_csv_rows_read_as_named_fields():
    (section,) = load_csv(DATA / "spare-parts.csv")
    line = next(row for row in section.text.splitlines() if "LK-GSK-58" in row)
    assert "part_number: LK-GSK-58" in line and "price_eur: 9.50" in line


def test_a_long_csv_arrives_in_blocks_of_whole_rows(tmp_path):
    path = tmp_path / "rows.csv"
    with path.open("w", newline="") as handle:
        handle.write("id,city\n")
        handle.writelines(f"{n},City number {n}\n" for n in range(100_000))
    sections = list(load_csv(path))
    assert len(sections) > 10 and all(len(s.text) < TEXT_BLOCK + 200 for s in sections)
    rows = [row for s in sections for row in s.text.split("\n")]
    assert len(rows) == 100_000
    assert rows[0] == "id: 0; city: City number 0" and rows[-1] == "id: 99999; city: City number 99999"


def test_a_malformed_csv_is_a_load_error_naming_the_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("a,b\n1,2\n3," + "x" * 200_000 + "\n")
    with pytest.raises(LoadError, match="malformed CSV \\(line 3\\)"):
        list(load_csv(path))


@pytest.mark.parametrize(
    ("raw", "encoding", "text"),
    [
        ("Détartrage à 60 °C".encode(), "utf-8-sig", "Détartrage à 60 °C"),
        ("“Crème” costs 4 €".encode("cp1252"), "cp1252", "“Crème” costs 4 €"),
        (b"caf\xe9 \x81", "latin-1", "café \x81"),  # not cp1252 (0x81 is unassigned): Latin-1
        ("Détartrage".encode("utf-16"), "utf-16", "Détartrage"),
        ("\ufeffhello".encode(), "utf-8-sig", "hello"),
    ],
)
def test_text_encodings(tmp_path, raw, encoding, text):
    path = tmp_path / "note.txt"
    path.write_bytes(raw)
    assert text_encoding(path) == encoding
    assert [s.text for s in load_text(path)] == [text]


@pytest.mark.parametrize("raw", [b"\xfe\xffd", "cut".encode("utf-16") + b"!", b"\xff\xfe\x00\xd8"])
@pytest.mark.parametrize("loader", [load_text, load_csv])
def test_broken_utf16_is_a_load_error(tmp_path, raw, loader):
    """Found by `make fuzz`: was a UnicodeDecodeError, which stopped the whole ingest run."""
    path = tmp_path / "broken.txt"
    path.write_bytes(raw)
    with pytest.raises(LoadError, match="broken UTF-16"):
        list(loader(path))


@pytest.mark.parametrize("name", ["menu.md", "menu.html"])
def test_markdown_and_html_decode_as_text_files_do(tmp_path, name):
    path = tmp_path / name
    path.write_bytes("# Crème\n\n“Descale” costs 4 €.\n".encode("cp1252"))  # unstructured guessed cp1250
    assert "Crème" in " ".join(s.heading + s.text for s in load_structured(path))
    path.write_bytes(b"\x00\x01binary")
    with pytest.raises(LoadError, match="binary"):
        load_structured(path)


@pytest.mark.parametrize("name", ["rule.md", "rule.html"])
def test_a_long_word_does_not_stall_the_markup_loaders(tmp_path, name):  # found by `make fuzz`
    path = tmp_path / name
    path.write_text(
        "# Descaling\n\nDescale every month.\n\n"
        + "=" * 20_000
        + "\n\n<!--"
        + "-" * 500
        + "-->\n\n"
        + "É[¥Ì" * 5_000  # letters between the symbols: as slow
    )
    started = time.monotonic()
    sections = load_structured(path)  # spaCy's tokenizer is quadratic in such a run: minutes before the fix
    assert time.monotonic() - started < 20
    assert "Descale every month." in " ".join(s.text for s in sections)


def test_binary_and_empty_text_files(tmp_path):
    junk = tmp_path / "junk.txt"
    junk.write_bytes(b"\x00\x01\x02junk")
    with pytest.raises(LoadError, match="binary"):
        list(load_text(junk))
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    assert list(load_text(empty)) == []


def test_a_late_non_utf8_byte_decides_the_whole_file(tmp_path):
    path = tmp_path / "late.txt"
    path.write_bytes(b"plain ascii " * 200_000 + "café".encode("cp1252"))
    assert text_encoding(path) == "cp1252"
    assert "".join(s.text for s in load_text(path)).endswith("café")


def test_a_200_mb_single_line_streams_in_bounded_memory(tmp_path):
    path = tmp_path / "one-line.txt"
    word = b"lorem ipsum dolor sit amet " * 40  # about 1 KB with spaces but no line break
    with path.open("wb") as handle:
        for _ in range(200 * 1024):
            handle.write(word)
    tracemalloc.start()
    try:
        total = sum(len(section.text) for section in load_text(path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert total == path.stat().st_size
    assert peak < 8 * 2**20, f"peak {peak / 2**20:.1f} MB while reading a 200 MB file"


def test_unsupported_suffix_has_no_loader():
    assert loader_for(Path("x.exe")) is None
    assert loader_for(Path("X.PDF")) is load_pdf


@pytest.mark.parametrize("name", ["empty.md", "empty.html"])
def test_an_empty_markup_file_has_no_sections(tmp_path, name):
    path = tmp_path / name
    path.write_text("")
    assert list(load_structured(path)) == []
