"""Fuzz `ingest.loaders`: every supported suffix gets random bytes, mutated sample files and odd text.

Contract checked: `list(loader(path))` gives sections whose text is a `str`, or raises `LoadError` with a
one-line message. Anything else (another exception, an input taking over `PER_INPUT_SECONDS`) is a finding.
Not checked: whether the extracted text is right; that is what tests/test_loaders.py is for.
"""

from __future__ import annotations

import io
import zipfile

from hypothesis import strategies as st

from ingest.loaders import LoadError, loader_for
from tests.fuzz.harness import ROOT, one_line, run_round, scratch, time_limit

SAMPLES = {
    ".pdf": "warranty.pdf",
    ".txt": "release-notes.txt",
    ".csv": "spare-parts.csv",
    ".md": "setup-guide.md",
    ".html": "faq.html",
    ".docx": "maintenance.docx",
    ".pptx": "onboarding-slides.pptx",
}
SAMPLE_BYTES = {suffix: (ROOT / "data" / name).read_bytes() for suffix, name in SAMPLES.items()}
TEXT_SUFFIXES = (".txt", ".csv", ".md", ".html")
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "cp1252", "latin-1")
MAX_TEXT = 80_000  # characters: past one TEXT_BLOCK, small enough for spaCy to classify in seconds
TOKENS = (
    '"', ",", '""', "\n", "\r", "\r\n", "\x00", "\ufeff", "#", "# ", "<", ">", "<h1>", "</p>", "```", "|",
)  # fmt: skip

# --- byte mutations of a sample -------------------------------------------------------------------------

_op = st.tuples(
    st.sampled_from(["flip", "insert", "delete", "truncate", "splice"]),
    st.integers(0, 2**31),  # position, taken modulo the current length
    st.binary(min_size=1, max_size=64),
)


def _mutate(data: bytes, ops: list[tuple[str, int, bytes]]) -> bytes:
    for kind, position, chunk in ops:
        at = position % (len(data) + 1)
        if kind == "flip":
            data = (
                data[:at]
                + bytes(b ^ c for b, c in zip(data[at:], chunk, strict=False))
                + data[at + len(chunk) :]
            )
        elif kind == "insert":
            data = data[:at] + chunk + data[at:]
        elif kind == "delete":
            data = data[:at] + data[at + len(chunk) :]
        elif kind == "truncate":
            data = data[:at]
        else:  # splice: a run of another sample's bytes
            other = list(SAMPLE_BYTES.values())[chunk[0] % len(SAMPLE_BYTES)]
            start = position % max(len(other), 1)
            data = data[:at] + other[start : start + 64 * len(chunk)] + data[at:]
    return data


def _mutate_zip_member(data: bytes, member: int, ops: list[tuple[str, int, bytes]]) -> bytes:
    """DOCX and PPTX are zips: mutating a member and zipping again reaches the XML parsers."""
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        names = source.namelist()
        target = names[member % len(names)]
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dest:
            for name in names:
                content = source.read(name)
                dest.writestr(name, _mutate(content, ops) if name == target else content)
    return out.getvalue()


@st.composite
def mutated_sample(draw: st.DrawFn, suffix: str) -> bytes:
    ops = draw(st.lists(_op, min_size=1, max_size=8))
    if suffix in (".docx", ".pptx") and draw(st.booleans()):
        return _mutate_zip_member(SAMPLE_BYTES[suffix], draw(st.integers(0, 100)), ops)
    return _mutate(SAMPLE_BYTES[suffix], ops)


# --- odd text for the text formats ----------------------------------------------------------------------

_surrogate = st.integers(0xD800, 0xDFFF).map(chr)
_long_line = st.builds(lambda s, n: s * n, st.text(min_size=1, max_size=4), st.integers(1000, 20_000))
_piece = st.one_of(st.text(), st.sampled_from(TOKENS), _surrogate, _long_line)  # lines past TEXT_BLOCK


@st.composite
def odd_text(draw: st.DrawFn) -> bytes:
    text = "".join(draw(st.lists(_piece, max_size=40)))[:MAX_TEXT]
    encoding = draw(st.sampled_from(ENCODINGS))
    errors = "surrogatepass" if encoding.startswith("utf") else "replace"
    return text.encode(encoding, errors=errors)


@st.composite
def file_input(draw: st.DrawFn) -> tuple[str, bytes]:
    suffix = draw(st.sampled_from(sorted(SAMPLES)))
    sources = [st.binary(max_size=4096), mutated_sample(suffix)]
    if suffix in TEXT_SUFFIXES:
        sources.append(odd_text())
    return suffix, draw(st.one_of(sources))


# --- the property ---------------------------------------------------------------------------------------


def check_loader(suffix: str, data: bytes) -> None:
    """Write `data` as a file with `suffix`, load it, and assert the contract."""
    path = scratch(f"input{suffix}")
    path.write_bytes(data)
    loader = loader_for(path)
    assert loader is not None
    try:
        with time_limit(path):
            sections = list(loader(path))
    except LoadError as exc:
        assert one_line(str(exc)), f"LoadError message is not one non-empty line: {str(exc)!r}"
        return
    assert all(isinstance(section.text, str) for section in sections)


def fuzz_round(max_examples: int) -> None:
    run_round(file_input(), lambda case: check_loader(*case), max_examples)
