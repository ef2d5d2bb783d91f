"""Sources under an answer: which passage spans the answer rests on, escaped HTML with them marked,
and the place a source came from (a PDF page rendered as an image with the passage boxed, or the
surrounding text of other formats).

A checked answer (a turn with sentences, see `rag.support`) carries its evidence: character spans of each
source's text, used as they are. Older turns have none; their spans are re-derived with a lexical
heuristic (`claims_for`, `supported_spans`). Claims no source supports are flagged in the answer shown.
Document and answer text are never trusted: every character that HTML or Markdown would interpret is
escaped before `<mark>` tags or notes are added. This module does not use Streamlit and does not search
the store or check answers.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ingest.loaders import LoadError, loader_for
from rag.citations import content_words, leading_markers, marker_numbers, strip_markers
from rag.prompts import NOT_FOUND

# A sentence: up to . ! or ? followed by a space (not the dot in 14.90), or to the end of its line.
_SENTENCE = re.compile(r"(?:[^.!?\n]|[.!?]+(?=[^\s.!?]))+[.!?]*")
_LINE_WRAP = re.compile(r"(?<!\n)\n(?!\n)")
# Characters Markdown (and Streamlit's LaTeX) would interpret, replaced by numeric entities.
_ESCAPES = {c: f"&#{ord(c)};" for c in "&<>\"'\\`*_{}[]()#+-.!|$~:"} | {"\n": "<br>", "\r": ""}
MIN_OVERLAP = 0.5
UNSUPPORTED_NOTE = ":orange[⚠ not supported by the sources]"
Sentences = list[dict[str, Any]]


@dataclass(frozen=True)
class Source:
    """One numbered source of an answer, as stored with the turn."""

    n: int
    file: str
    path: str
    page: int | None
    heading: str
    score: float
    text: str
    cited: bool

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Source:
        return cls(
            n=int(data["n"]),
            file=str(data.get("file", "")),
            path=str(data.get("path", "")),
            page=data.get("page"),
            heading=str(data.get("heading", "")),
            score=float(data.get("score", 0.0)),
            text=str(data.get("text", "")),
            cited=bool(data.get("cited")),
        )

    @property
    def label(self) -> str:
        where = f"page {self.page}" if self.page is not None else (self.heading or "")
        return " · ".join(part for part in (f"[{self.n}] {self.file}", where) if part)

    @property
    def is_pdf(self) -> bool:
        return self.path.lower().endswith(".pdf")

    @property
    def display_text(self) -> str:
        """The passage as shown: a PDF's layout line breaks joined into running text."""
        return _LINE_WRAP.sub(" ", self.text) if self.is_pdf else self.text


def is_not_found(answer: str) -> bool:
    """Whether the answer is the not-found reply (its sources are then only the closest passages)."""
    return answer.strip() == NOT_FOUND


def split_cited(sources: list[Source]) -> tuple[list[Source], list[Source]]:
    """(sources the answer cites, sources only retrieved)."""
    return [s for s in sources if s.cited], [s for s in sources if not s.cited]


def claims_for(answer: str, n: int) -> list[str]:
    """The answer's sentences that cite source `n` (markers removed); "… purchase. [1]" cites too."""
    sentences: list[tuple[str, set[int]]] = []
    for sentence in _SENTENCE.findall(answer):
        leading = leading_markers(sentence)
        if leading and sentences:  # markers placed after the previous sentence's full stop
            sentences[-1][1].update(marker_numbers(leading))
            sentence = sentence[len(leading) :]
        text = strip_markers(sentence)
        if text.strip(" .!?"):
            sentences.append((text, set(marker_numbers(sentence))))
    return [text for text, numbers in sentences if n in numbers]


def supported_spans(text: str, claims: list[str]) -> list[tuple[int, int]]:
    """Character spans of the passage's sentences that hold at least half of some claim's content words."""
    wanted = [words for words in map(content_words, claims) if len(words) >= 2]
    spans = []
    for match in _SENTENCE.finditer(text):
        words = content_words(match.group())
        if any(len(words & claim) >= max(2, MIN_OVERLAP * len(claim)) for claim in wanted):
            start = match.start() + len(match.group()) - len(match.group().lstrip())
            spans.append((start, match.end()))
    return spans


def evidence_spans(sentences: Sentences, n: int, length: int) -> list[tuple[int, int]]:
    """The checked evidence in source `n` of each sentence citing it: spans within `length` characters,
    overlapping ones merged."""
    spans = sorted(
        (e["start"], e["end"])
        for sentence in sentences
        if n in sentence["cited"]
        for e in sentence["evidence"]
        if e["n"] == n and 0 <= e["start"] < e["end"] <= length
    )
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def highlight_spans(source: Source, answer: str, sentences: Sentences) -> list[tuple[int, int]]:
    """Spans of `source.display_text` the answer rests on: its checked evidence, else (older turns without
    sentences) the passage sentences sharing most words with the claims citing the source."""
    if sentences:
        return evidence_spans(sentences, source.n, len(source.text))
    if not source.cited:
        return []
    return supported_spans(source.display_text, claims_for(answer, source.n))


def escape_text(text: str) -> str:
    """Text safe to put inside HTML rendered as Markdown: nothing in it is interpreted."""
    return "".join(_ESCAPES.get(c, c) for c in text)


def marked_html(text: str, spans: list[tuple[int, int]]) -> str:
    """The escaped text with each span wrapped in `<mark>`, on one line (one HTML block)."""
    pieces, cursor = [], 0
    for start, end in sorted(spans):
        if start < cursor:
            continue
        pieces += [escape_text(text[cursor:start]), "<mark>", escape_text(text[start:end]), "</mark>"]
        cursor = end
    pieces.append(escape_text(text[cursor:]))
    return '<div class="askdocs-passage">' + "".join(pieces) + "</div>"


def answer_markdown(text: str) -> str:
    """An answer as Markdown: dollar signs, raw HTML, links and images shown literally.

    A model repeating a hostile document could otherwise make the page fetch `![](http://...)`."""
    for char in ("\\", "$", "[", "]"):
        text = text.replace(char, "\\" + char)
    return text.replace("<", "&lt;")


def checked_markdown(answer: str, sentences: Sentences) -> str:
    """`answer_markdown` of the answer, with a note after each claim no source supports."""
    pieces, shown, search = [], 0, 0
    for sentence in sentences:
        at = answer.find(sentence["text"], search) if sentence["text"] else -1
        if at < 0:
            continue
        search = at + len(sentence["text"])
        if not sentence["supported"]:
            pieces += [answer_markdown(answer[shown:search]), " " + UNSUPPORTED_NOTE]
            shown = search
    pieces.append(answer_markdown(answer[shown:]))
    return "".join(pieces)


# ---- where a source came from


def surrounding_text(path: Path, passage: str, page: int | None, heading: str) -> str | None:
    """The section (page, slide or heading block) of the file the passage was cut from, if it can be read."""
    loader = loader_for(path)
    if loader is None or not path.is_file():
        return None
    try:
        sections = list(loader(path))
    except (LoadError, OSError):
        return None
    same_place = [s for s in sections if s.page == page and s.heading == heading] or sections
    probe = " ".join(passage.split())[:80]
    for section in same_place:
        if probe and probe in " ".join(section.text.split()):
            return section.text
    words = content_words(passage)
    best = max(same_place, key=lambda s: len(words & content_words(s.text)), default=None)
    return best.text if best else None


def _normalised(text: str) -> tuple[str, list[int]]:
    """Lower-cased text with whitespace runs as one space, and each kept character's original index."""
    out, index = [], []
    for i, char in enumerate(text):
        if char.isspace() or char in "\r\n\x02\ufffe":
            if out and out[-1] != " ":
                out.append(" ")
                index.append(i)
            continue
        out.append(char.lower())
        index.append(i)
    return "".join(out), index


def find_span(haystack: str, needle: str) -> tuple[int, int] | None:
    """Where `needle` occurs in `haystack`, ignoring case and whitespace differences (original indices)."""
    norm_hay, index = _normalised(haystack)
    norm_needle = " ".join(needle.lower().split())
    at = norm_hay.find(norm_needle) if norm_needle else -1
    if at < 0:
        return None
    return index[at], index[at + len(norm_needle) - 1] + 1


def render_pdf_page(path: Path, page: int, marks: list[str], scale: float = 1.5) -> bytes:
    """The page (numbered from 1) as PNG bytes, with a box around each text in `marks` found on it."""
    import pypdfium2
    from PIL import ImageDraw

    pdf = pypdfium2.PdfDocument(path)
    try:
        pdf_page = pdf[page - 1]
        image = pdf_page.render(scale=scale).to_pil().convert("RGB")
        boxes = _text_boxes(pdf_page, marks)
        height = pdf_page.get_height()
    finally:
        pdf.close()
    overlay = ImageDraw.Draw(image, "RGBA")
    for left, bottom, right, top in boxes:
        rect = (
            left * scale - 2,
            (height - top) * scale - 2,
            right * scale + 2,
            (height - bottom) * scale + 2,
        )
        overlay.rectangle(rect, fill=(255, 214, 0, 70), outline=(220, 120, 0, 255), width=2)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _text_boxes(pdf_page: Any, marks: list[str]) -> list[tuple[float, float, float, float]]:
    textpage = pdf_page.get_textpage()
    try:
        text = textpage.get_text_range()
        boxes = []
        for mark in marks:
            span = find_span(text, mark)
            if span is None:
                continue
            count = textpage.count_rects(span[0], span[1] - span[0])
            boxes += [textpage.get_rect(i) for i in range(count)]
        return boxes
    finally:
        textpage.close()


def marks_for(source: Source, answer: str, sentences: Sentences | None = None) -> list[str]:
    """The passage text to box on the page: the spans the answer rests on, else the whole passage."""
    text = source.display_text
    spans = highlight_spans(replace(source, cited=True), answer, sentences or [])
    return [text[a:b] for a, b in spans] or [text]
