from pathlib import Path

import pytest
from pypdf import PdfWriter

from ingest.loaders import LoadError, decode_text, load_csv, load_pdf, load_structured, load_text, loader_for

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


def test_text_encodings(tmp_path):
    assert decode_text("Détartrage à 60 °C".encode("latin-1")) == "Détartrage à 60 °C"
    assert decode_text("“Crème” costs 4 €".encode("cp1252")) == "“Crème” costs 4 €"
    assert decode_text(b"caf\xe9 \x81") == "café \x81"  # not cp1252 (0x81 is unassigned): Latin-1
    assert decode_text("Détartrage".encode("utf-16")) == "Détartrage"
    assert decode_text("\ufeffhello".encode()) == "hello"
    with pytest.raises(LoadError, match="binary"):
        decode_text(b"\x00\x01\x02junk")
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    assert load_text(empty) == []


def test_unsupported_suffix_has_no_loader():
    assert loader_for(Path("x.exe")) is None
    assert loader_for(Path("X.PDF")) is load_pdf
