"""Turn one file into sections of text with their page or heading.

One loader per format, chosen by suffix. PDFs are read page by page with pypdfium2, with pypdf as the
fallback when pdfium cannot open a file; Markdown, HTML, DOCX and PPTX go through `unstructured`
(light extras only); TXT and CSV are streamed in blocks, so a file of any size is read in bounded
memory. A loader raises `LoadError` with a reason a person
can act on. This module does not split, hash, embed, or decide which files to visit.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, TextIO


class LoadError(Exception):
    """A file could not be turned into text; the message says why and what to do."""


@dataclass(frozen=True)
class Section:
    """A run of text from one place in a file: a PDF page, a slide, or the text under one heading."""

    text: str
    page: int | None = None
    heading: str = ""


@dataclass
class _HeadingPath:
    titles: list[tuple[int, str]] = field(default_factory=list)

    def enter(self, depth: int, title: str) -> None:
        self.titles = [(d, t) for d, t in self.titles if d < depth] + [(depth, title)]

    def __str__(self) -> str:
        return " > ".join(title for _, title in self.titles)


def load_pdf(path: Path) -> list[Section]:
    """One section per page with text, numbered from 1."""
    try:
        pages = _pdf_pages_pdfium(path)
    except Exception as pdfium_error:  # pdfium raises its own PdfiumError and OSError variants
        try:
            pages = _pdf_pages_pypdf(path)
        except Exception as pypdf_error:
            raise LoadError(_pdf_reason(pdfium_error, pypdf_error)) from None
    sections = [Section(text, page=n) for n, text in enumerate(pages, start=1) if text.strip()]
    if not sections:
        raise LoadError("scanned PDF: no text layer; OCR is not enabled")
    return sections


def _pdf_pages_pdfium(path: Path) -> list[str]:
    import pypdfium2

    pdf = pypdfium2.PdfDocument(path)
    try:
        return [_pdfium_page_text(pdf[i]) for i in range(len(pdf))]
    finally:
        pdf.close()


def _pdfium_page_text(page) -> str:
    textpage = page.get_textpage()
    try:
        return textpage.get_text_bounded().replace("\r\n", "\n").replace("\r", "\n")
    finally:
        textpage.close()
        page.close()


def _pdf_pages_pypdf(path: Path) -> list[str]:
    from pypdf import PdfReader

    reader = PdfReader(path)
    if reader.is_encrypted and not reader.decrypt(""):
        raise LoadError("encrypted PDF: remove the password and ingest again")
    return [page.extract_text() or "" for page in reader.pages]


def _pdf_reason(pdfium_error: Exception, pypdf_error: Exception) -> str:
    text = f"{pdfium_error} {pypdf_error}".lower()
    if "password" in text or "encrypt" in text:
        return "encrypted PDF: remove the password and ingest again"
    return f"unreadable PDF (pdfium: {pdfium_error}; pypdf: {pypdf_error}); re-save or export it as a new PDF"


TEXT_BLOCK = 1 << 16  # characters per section of a text or CSV file read as a stream
_SNIFF = 1 << 13  # bytes looked at for a byte-order mark or NUL bytes


def load_text(path: Path) -> Iterator[Section]:
    """The file as a stream of sections of about `TEXT_BLOCK` characters, cut at a line break or space.

    Decoded as UTF-8 (BOM or not), UTF-16, Windows-1252 or Latin-1; memory stays bounded for any size."""
    with path.open(encoding=text_encoding(path), newline="") as handle:
        yield from (Section(block) for block in _blocks(handle) if block.strip())


def _blocks(handle: TextIO) -> Iterator[str]:
    carry = ""
    while block := handle.read(TEXT_BLOCK):
        text = carry + block
        cut = _cut_point(text) if len(block) == TEXT_BLOCK else len(text)  # a short read is the end
        yield text[:cut]
        carry = text[cut:]
    if carry:
        yield carry


def _cut_point(text: str) -> int:
    """After the last paragraph break, line break or space in the second half of `text` (else its end)."""
    half = len(text) // 2
    for separator in ("\n\n", "\n", " "):
        found = text.rfind(separator, half)
        if found >= 0:
            return found + len(separator)
    return len(text)


def text_encoding(path: Path) -> str:
    """The encoding a text file decodes in, checked over the whole file in blocks; refuses binary data."""
    with path.open("rb") as handle:
        head = handle.read(_SNIFF)
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            handle.seek(0)
            if _decodes(handle, "utf-16"):
                return "utf-16"
            raise LoadError("broken UTF-16 text (cut short or a lone surrogate): save it again as UTF-8")
        if b"\x00" in head:
            raise LoadError("binary data in a text file: not a text document")
        # Windows-1252 before Latin-1: most "Latin-1" files are cp1252 (€, curly quotes in 0x80-0x9F)
        for encoding in ("utf-8-sig", "cp1252"):
            handle.seek(0)
            if _decodes(handle, encoding):
                return encoding
    return "latin-1"  # decodes any byte string


def _decodes(handle: BinaryIO, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        while block := handle.read(1 << 20):
            decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def load_csv(path: Path) -> Iterator[Section]:
    """Each row as one line of `column: value` pairs, so a row reads on its own in a chunk; streamed."""
    with path.open(encoding=text_encoding(path), newline="") as handle:
        rows = csv.reader(handle)
        try:
            header = next(rows, None)
            if header is not None:
                yield from (Section(text) for text in _row_blocks(header, rows))
        except csv.Error as exc:
            raise LoadError(f"malformed CSV (line {rows.line_num}): {exc}; fix or export it again") from None


def _row_blocks(header: list[str], rows: Iterator[list[str]]) -> Iterator[str]:
    lines: list[str] = []
    size = 0
    for row in rows:
        if any(cell.strip() for cell in row):
            lines.append(_csv_row(header, row))
            size += len(lines[-1]) + 1
        if size >= TEXT_BLOCK:
            yield "\n".join(lines)
            lines, size = [], 0
    if lines:
        yield "\n".join(lines)


def _csv_row(header: list[str], row: list[str]) -> str:
    names = header + [f"column {i + 1}" for i in range(len(header), len(row))]
    return "; ".join(f"{name}: {value}" for name, value in zip(names, row, strict=False) if value.strip())


def load_structured(path: Path) -> list[Section]:
    """Markdown, HTML, DOCX, PPTX through `unstructured`: one section per heading (or slide)."""
    elements = _partition(path)
    sections: list[Section] = []
    headings = _HeadingPath()
    body: list[str] = []
    page: int | None = None
    for element in elements:
        text = (element.text or "").strip()
        element_page = getattr(element.metadata, "page_number", None) if path.suffix == ".pptx" else None
        if element.category == "Title" or element_page != page:
            _flush(sections, body, page, str(headings))
            body, page = [], element_page
        if element.category == "Title":
            headings.enter(getattr(element.metadata, "category_depth", None) or 0, text)
        elif text:
            body.append(text)
    _flush(sections, body, page, str(headings))
    return sections


def _flush(sections: list[Section], body: list[str], page: int | None, heading: str) -> None:
    if body:
        sections.append(Section("\n\n".join(body), page=page, heading=heading))


def _partition(path: Path) -> list:
    suffix = path.suffix.lower()
    if suffix in (".md", ".markdown"):
        from unstructured.partition.md import partition_md as partition
    elif suffix in (".html", ".htm"):
        from unstructured.partition.html import partition_html as partition
    elif suffix == ".docx":
        from unstructured.partition.docx import partition_docx as partition
    else:
        from unstructured.partition.pptx import partition_pptx as partition
    source = {"text": _markup_text(path)} if suffix in _MARKUP else {"filename": str(path)}
    if source.get("text") == "":
        return []  # an empty Markdown/HTML file: no text (unstructured would take "" for no input at all)
    try:
        return partition(**source)
    except Exception as exc:  # unstructured and its parsers raise many unrelated types
        raise LoadError(f"cannot parse {suffix[1:].upper()}: {exc}".splitlines()[0]) from None


_MARKUP = (".md", ".markdown", ".html", ".htm")
_LONG_WORD = re.compile(r"\S{201,}")


def _markup_text(path: Path) -> str:
    """A Markdown or HTML file decoded as TXT is, with each run of over 200 non-spaces cut to its two ends.

    unstructured's own encoding guess read cp1252 "Crème" as cp1250 and a stray byte as EBCDIC. Its spaCy
    tokenizer takes time quadratic in the length of a word with punctuation ("=" * 8000: half a minute);
    no prose has such words, and the ends keep markup such as `<!-- ... -->` or `">link</a>` whole."""
    text = path.read_text(encoding=text_encoding(path))
    return _LONG_WORD.sub(lambda word: word[0][:100] + word[0][-100:], text)


Loader = Callable[[Path], Iterable[Section]]

LOADERS: dict[str, Loader] = {
    ".pdf": load_pdf,
    ".txt": load_text,
    ".text": load_text,
    ".csv": load_csv,
    ".md": load_structured,
    ".markdown": load_structured,
    ".html": load_structured,
    ".htm": load_structured,
    ".docx": load_structured,
    ".pptx": load_structured,
}


def loader_for(path: Path) -> Loader | None:
    """The loader for a file's format, or None when the format is not supported."""
    return LOADERS.get(path.suffix.lower())
