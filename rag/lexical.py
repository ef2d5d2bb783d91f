"""Lexical index of the chunks: BM25 by Tantivy, in a folder beside the Chroma store.

Each chunk is one Tantivy document: its id, file path and version (kept whole, to find and delete it by)
and three searched fields, its document title (the file name's stem), its heading path and its text, all
split into words, lower-cased, folded to ASCII and reduced to their English (Snowball) stems. A question
is searched by its content words (common English words left out), any of which may match, in any of the
three fields, ranked by the sum of their BM25 scores. Tantivy finds the top n without scoring every chunk
that holds a common word (block-max WAND), so a question costs milliseconds even at a million chunks;
SQLite FTS5, used before, scored every match and needed a budget of words to stay under a second there.

`rag.store.Store` writes to it on every upsert and delete, so the same sync that writes vectors keeps it
current; nothing here is rebuilt per query. Each write is one Tantivy commit, made by a writer held only
for that write (Tantivy allows one writer per index across processes; the store's write lock, not this
module, decides who writes) and ended after its segment merges, so an interrupted sync leaves the last
commit intact (the next sync redoes the file, as it does for vectors). Another process's commits are
seen through the index's `meta.json`, which every commit replaces. It also tells how rare a word is
among the chunks (`rarity`, BM25's inverse document frequency), which weighs the question's words when
evidence sentences are scored (`rag.evidence`).

A second Tantivy index, in the `files` subfolder, holds the same text by file: each write adds one
document per file it touches, holding all of that file's chunks in the write (a sync writes 256 at a
time, so a long file has a few such parts). `file_scores` ranks files by BM25 over these parts (a
file's best part), so a question naming what a whole file is about ("Intel", "the 2019 outbreak")
finds the file even when the passage that answers never repeats the name (`rag.file_match`), and
`words_in_files` tells which of a question's words a file holds (`rag.evidence`). It is
written and deleted with the chunks, in the same lock, and committed just before them. This module
does not embed, fuse rankings or read Chroma; it only stores ids, paths and text.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import tantivy

# Words that carry no topic; leaving them out of questions keeps BM25 on the words that do.
STOPWORDS = frozenset(
    """a about above after again all also am an and any are as at be been before being below between both
    but by can could did do does doing down during each few for from further had has have having he her
    here hers him his how i if in into is it its itself just me more most my no nor not now of off on once
    only or other our ours out over own same she should so some such than that the their theirs them then
    there these they this those through to too under until up very was we were what when where which
    while who whom why will with would you your yours""".split()
)

SEARCHED_FIELDS = ("title", "heading", "body")
_ANALYZER = "askdocs_en"
_WRITER_HEAP = 50_000_000  # bytes Tantivy may buffer before it writes a segment
_WORD = re.compile(r"\w+")


def query_words(question: str) -> list[str]:
    """A question's distinct content words, in order."""
    return list(dict.fromkeys(w for w in _WORD.findall(question.lower()) if w not in STOPWORDS))


def _analyzer() -> Any:
    """Words, lower-cased, folded to ASCII, stemmed (English Snowball); words over 40 bytes dropped."""
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .filter(tantivy.Filter.stemmer("english"))
        .build()
    )


def _schema() -> Any:
    builder = tantivy.SchemaBuilder()
    for name in ("chunk_id", "path", "version"):
        builder.add_text_field(name, stored=name == "chunk_id", tokenizer_name="raw", index_option="basic")
    for name in SEARCHED_FIELDS:
        builder.add_text_field(name, tokenizer_name=_ANALYZER, index_option="freq")
    return builder.build()


def _file_schema() -> Any:
    """One document per file part: its first chunk's id (to replace it), path and version, and text."""
    builder = tantivy.SchemaBuilder()
    for name in ("part_id", "path", "version"):
        builder.add_text_field(name, stored=name == "path", tokenizer_name="raw", index_option="basic")
    builder.add_text_field("body", tokenizer_name=_ANALYZER, index_option="freq")
    return builder.build()


def _open(folder: Path, schema: Any, analyzer: Any) -> Any:
    folder.mkdir(parents=True, exist_ok=True)
    index = tantivy.Index(schema, path=str(folder), reuse=True)
    index.register_tokenizer(_ANALYZER, analyzer)
    return index


def _parts(ids: Sequence[str], texts: Sequence[str], metadatas: Sequence[dict]) -> list[dict[str, str]]:
    """The chunks of one write grouped by (path, version): one part per file, named by its first chunk."""
    parts: dict[tuple[str, str], dict[str, Any]] = {}
    for chunk_id, text, meta in zip(ids, texts, metadatas, strict=True):
        key = (str(meta.get("path", "")), str(meta.get("version", "")))
        part = parts.setdefault(key, {"part_id": chunk_id, "path": key[0], "version": key[1], "body": []})
        part["body"].append(text)
    return [{**part, "body": "\n".join(part["body"])} for part in parts.values()]


class LexicalIndex:
    """BM25 search over chunk titles, headings and texts, kept in one Tantivy index folder."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._analyzer = _analyzer()
        self._index = _open(folder, _schema(), self._analyzer)
        self._files = _open(folder / "files", _file_schema(), self._analyzer)
        self._lock = threading.Lock()  # one writer at a time within this process
        self._seen_commit = self._commit_signature()

    def _commit_signature(self) -> tuple[int, int, int]:
        """Which commit the folder holds: each commit replaces `meta.json` (a new file, by rename)."""
        stat = (self._folder / "meta.json").stat()
        return stat.st_ino, stat.st_mtime_ns, stat.st_size

    def changed_elsewhere(self) -> bool:
        """Whether another process (another ingest) committed since the last call; if so, search sees it."""
        with self._lock:
            signature = self._commit_signature()
            changed, self._seen_commit = signature != self._seen_commit, signature
            if changed:
                self._index.reload()
                self._files.reload()
        return changed

    def close(self) -> None:
        """Nothing stays open between calls (no writer is kept); here for symmetry with the store."""

    def count(self) -> int:
        return self._index.searcher().num_docs

    def paths(self) -> list[str]:
        """Every file path with indexed chunks."""
        return self._live_terms("path")

    def chunk_ids(self) -> list[str]:
        """Every indexed chunk's id."""
        return self._live_terms("chunk_id")

    def file_paths(self) -> list[str]:
        """Every file path with indexed file parts (the same as `paths` unless a write was cut between
        the two indexes, or the store predates the file parts)."""
        return self._live_terms("path", self._files)

    def _live_terms(self, field: str, index: Any = None) -> list[str]:
        """A kept-whole field's values among live documents (a deleted one's stay listed until merged)."""
        searcher = (index or self._index).searcher()
        terms = searcher.terms_with_prefix(field, "", filter_query=tantivy.Query.all_query())
        return sorted(value for value, chunks in terms if chunks > 0)

    @contextmanager
    def _writers(self) -> Iterator[tuple[Any, Any]]:
        """Writers for one change to the chunks and to the file parts, committed together (the parts
        first); an error in the block rolls both back."""
        with self._lock, _writer(self._index) as chunks, _writer(self._files) as files:
            yield chunks, files
        self._seen_commit = self._commit_signature()

    def upsert(self, ids: Sequence[str], texts: Sequence[str], metadatas: Sequence[dict]) -> None:
        """Index chunks (path, version and heading come from their metadata); known ids are replaced."""
        with self._writers() as (writer, files):
            for part in _parts(ids, texts, metadatas):
                files.delete_documents_by_term("part_id", part["part_id"])
                files.add_document(tantivy.Document(**part))
            for chunk_id, text, meta in zip(ids, texts, metadatas, strict=True):
                path = str(meta.get("path", ""))
                writer.delete_documents_by_term("chunk_id", chunk_id)
                writer.add_document(
                    tantivy.Document(
                        chunk_id=chunk_id,
                        path=path,
                        version=str(meta.get("version", "")),
                        title=Path(path).stem,
                        heading=str(meta.get("heading", "")),
                        body=text,
                    )
                )

    def delete_file(self, path: str, keep_version: str | None = None, version: str | None = None) -> None:
        """Forget a file's chunks; with `keep_version`, only those from its other versions; with
        `version`, only that version's."""
        schema = self._index.schema
        clauses = [(tantivy.Occur.Must, tantivy.Query.term_query(schema, "path", path))]
        if keep_version is not None:
            clauses.append((tantivy.Occur.MustNot, tantivy.Query.term_query(schema, "version", keep_version)))
        elif version is not None:
            clauses.append((tantivy.Occur.Must, tantivy.Query.term_query(schema, "version", version)))
        with self._writers() as writers:
            for writer in writers:
                writer.delete_documents_by_query(tantivy.Query.boolean_query(clauses))

    def clear(self) -> None:
        with self._writers() as writers:
            for writer in writers:
                writer.delete_all_documents()

    def search(self, question: str, n: int, paths: Sequence[str] | None = None) -> list[tuple[str, float]]:
        """Up to n (chunk id, BM25 score) pairs, best first; `paths` restricts the files searched."""
        query = self._words_query(question)
        if query is None or (paths is not None and not paths):
            return []
        if paths is not None:
            query = _within_paths(query, self._index.schema, paths)
        searcher = self._index.searcher()
        hits = searcher.search(query, n, count=False).hits
        return [(searcher.doc(address)["chunk_id"][0], float(score)) for score, address in hits]

    def file_scores(self, question: str, paths: Sequence[str]) -> dict[str, float]:
        """Each of these files' BM25 score for the question's words over its text (its best part), for
        the files that hold any of them."""
        query = self._words_query(question, self._files.schema, ("body",))
        if query is None or not paths:
            return {}
        query = _within_paths(query, self._files.schema, paths)
        searcher = self._files.searcher()
        scores: dict[str, float] = {}
        for score, address in searcher.search(query, 4 * len(paths) + 10, count=False).hits:
            path = searcher.doc(address)["path"][0]
            scores[path] = max(scores.get(path, 0.0), float(score))
        return scores

    def rarity(self, words: Sequence[str], paths: Sequence[str] | None = None) -> dict[str, float]:
        """Each word's BM25 inverse document frequency over the chunks' texts (of `paths` only, if given: as
        if the collection held only those files): near 0 for a word most chunks hold, highest for one none
        holds. Give words as written: they are stemmed here, and a stem stemmed again can be another
        word ("diseas" -> "disea"). A word Tantivy splits ("1.5") counts as its rarest part."""
        searcher = self._index.searcher()
        schema = self._index.schema
        within = None if paths is None else tantivy.Query.term_set_query(schema, "path", list(paths))
        chunks = searcher.num_docs if within is None else searcher.search(within, 1, count=True).count
        rarity = {}
        for word in words:
            terms = self._analyzer.analyze(word)
            held_by = min(min((self._held_by(searcher, term, within) for term in terms), default=0), chunks)
            rarity[word] = math.log(1 + (chunks - held_by + 0.5) / (held_by + 0.5))
        return rarity

    def words_in_files(self, words: Sequence[str], paths: Sequence[str]) -> dict[str, set[str]]:
        """For each of these files, which of the words (as written; stemmed here) its text holds."""
        searcher = self._files.searcher()
        schema = self._files.schema
        holders: dict[str, set[str]] = {path: set() for path in paths}
        within = tantivy.Query.term_set_query(schema, "path", list(paths))
        parts = searcher.search(within, 1, count=True).count  # a long file has a few
        for word in words:
            terms = self._analyzer.analyze(word)
            found = [self._files_holding(searcher, term, within, parts) for term in terms]
            for path in set.intersection(*found) if found else ():
                holders[path].add(word)
        return holders

    def _files_holding(self, searcher: Any, term: str, within: Any, parts: int) -> set[str]:
        """Which of the files `within` matches (`parts` documents in all) hold the term."""
        holds = tantivy.Query.term_query(self._files.schema, "body", term)
        query = tantivy.Query.boolean_query([(tantivy.Occur.Must, holds), (tantivy.Occur.Must, within)])
        hits = searcher.search(query, max(parts, 1), count=False).hits
        return {searcher.doc(address)["path"][0] for _, address in hits}

    def _held_by(self, searcher: Any, term: str, within: Any | None) -> int:
        """How many chunks' texts hold the term (among those `within` matches, if given)."""
        if within is None:
            return searcher.doc_freq("body", term)
        holds = tantivy.Query.term_query(self._index.schema, "body", term)
        query = tantivy.Query.boolean_query([(tantivy.Occur.Must, holds), (tantivy.Occur.Must, within)])
        return searcher.search(query, 1, count=True).count

    def _words_query(
        self, question: str, schema: Any = None, fields: Sequence[str] = SEARCHED_FIELDS
    ) -> Any | None:
        """Any of the question's content words (as indexed: stemmed) in any of `fields` (of the chunks'
        schema unless another is given); None if none."""
        schema = schema or self._index.schema
        terms = dict.fromkeys(term for word in query_words(question) for term in self._analyzer.analyze(word))
        clauses = [
            (tantivy.Occur.Should, tantivy.Query.term_query(schema, field, term))
            for term in terms
            for field in fields
        ]
        return tantivy.Query.boolean_query(clauses) if clauses else None


def _within_paths(query: Any, schema: Any, paths: Sequence[str]) -> Any:
    """The query, restricted to documents of these file paths."""
    within = tantivy.Query.term_set_query(schema, "path", list(paths))
    return tantivy.Query.boolean_query([(tantivy.Occur.Must, query), (tantivy.Occur.Must, within)])


@contextmanager
def _writer(index: Any) -> Iterator[Any]:
    """A writer for one change: committed, merged and released when the block ends."""
    writer = index.writer(heap_size=_WRITER_HEAP, num_threads=1)
    try:
        yield writer
        writer.commit()
    except BaseException:
        writer.rollback()
        raise
    finally:
        writer.wait_merging_threads()  # also releases Tantivy's writer lock
    index.reload()
