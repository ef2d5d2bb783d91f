"""Human-readable terminal output for the CLI: sync summaries, passages, streamed answers.

After a streamed answer come its checked claims (each with the source span supporting it, or flagged as
unsupported, see `rag.support`), then the sources it cites and those only retrieved. Only formatting and
printing; JSON output is built by the commands themselves, and nothing here checks an answer.
"""

from __future__ import annotations

import textwrap
import time
from collections.abc import Iterable
from typing import Any

import typer

from ingest.sync import SyncReport
from rag.chain import Answer, DoneEvent, Event, SourcesEvent, TokenEvent
from rag.citations import strip_markers
from rag.memory import Session
from rag.passages import Passage

_EXCERPT = 240
_QUOTE = 160


def _excerpt(text: str) -> str:
    return textwrap.shorten(" ".join(text.split()), _EXCERPT, placeholder=" …")


def print_sync_report(report: SyncReport) -> None:
    prefix = "dry run, nothing changed: would be " if report.dry_run else ""
    typer.echo(
        f"{prefix}{len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged, {len(report.removed)} removed "
        f"— {report.chunks} chunks in the store" + _written_now(report)
    )
    for entry in report.skipped:
        typer.echo(f"  skipped {entry['path']}: {entry['reason']}")
    for entry in report.failed:
        typer.echo(f"  FAILED  {entry['path']}: {entry['error']}")
    if report.missing:
        typer.echo(
            f"  {len(report.missing)} ingested file(s) no longer exist; run with --prune to remove them"
        )


def _written_now(report: SyncReport) -> str:
    """Chunks written by this run, by where their vectors came from, e.g. " (12 embedded now, 30 reused)"."""
    parts = [f"{report.embedded_chunks} embedded now"] if report.embedded_chunks else []
    parts += [f"{report.reused_chunks} reused"] if report.reused_chunks else []
    return f" ({', '.join(parts)})" if parts else ""


def print_passages(passages: Iterable[Passage], cited: Iterable[int] = ()) -> None:
    cited = set(cited)
    for passage in passages:
        mark = "*" if passage.rank in cited else " "
        typer.echo(f"{mark}[{passage.rank}] {passage.location}  (score {passage.score:.3f})")
        typer.echo(textwrap.indent(_excerpt(passage.text), "     "))


def print_streamed_answer(events: Iterable[Event]) -> None:
    """Print tokens as they arrive, then the checked claims and the sources."""
    streamed: list[str] = []
    for event in events:
        if isinstance(event, TokenEvent):
            streamed.append(event.text)
            typer.echo(event.text, nl=False)
        elif isinstance(event, DoneEvent):
            answer = event.answer
            if _restate(answer, "".join(streamed)):
                typer.echo(f"\n\n{_restated(answer)}:\n{answer.text}", nl=False)
            typer.echo()
            print_checked(answer.sentences, answer.sources)
            print_answer_sources(answer)
            for warning in answer.warnings:
                typer.echo(f"note: {warning}", err=True)
        elif isinstance(event, SourcesEvent):
            _print_search(event)


def _restate(answer: Answer, streamed: str) -> bool:
    """Whether the finished answer is printed again after the streamed one: when its words changed, or
    its markers did and no checked claims (each printed with its markers) follow."""
    if answer.text == streamed.strip():
        return False
    return strip_markers(answer.text) != strip_markers(streamed) or not answer.sentences


def _restated(answer: Answer) -> str:
    """What the finished answer printed after the streamed one is."""
    if answer.extracted:
        return "Instead, the closest source sentence"
    if answer.withheld:
        return "The sources support none of that answer, so it is withheld; instead"
    return "With citations matched to the sources"


def print_checked(sentences: list[dict[str, Any]], sources: list[Passage]) -> None:
    """Each claim with its citations and the source span supporting it, or flagged as unsupported."""
    claims = [s for s in sentences if s["evidence"] or not s["supported"]]
    if not claims:
        return
    typer.echo("\nChecked against the sources:")
    texts = {p.rank: p.text for p in sources}
    for sentence in claims:
        for line in checked_lines(sentence, texts):
            typer.echo(line)


def checked_lines(sentence: dict[str, Any], texts: dict[int, str]) -> list[str]:
    """`✓ [n] sentence` and the quoted supporting span, or `✗ not supported by the sources: sentence`."""
    if not sentence["supported"]:
        return [f"  ✗ not supported by the sources: {sentence['text']}"]
    markers = "".join(f"[{n}]" for n in sentence["cited"])
    lines = [" ".join(part for part in ("  ✓", markers, sentence["text"]) if part)]
    quote = supporting_quote(sentence, texts)
    return lines + ([f'      "{quote}"'] if quote else [])


def supporting_quote(sentence: dict[str, Any], texts: dict[int, str]) -> str:
    """The best evidence span from a source the sentence cites, on one line and shortened."""
    for evidence in sentence["evidence"]:
        if evidence["n"] in sentence["cited"] and evidence["n"] in texts:
            span = texts[evidence["n"]][evidence["start"] : evidence["end"]]
            return textwrap.shorten(" ".join(span.split()), _QUOTE, placeholder=" …")
    return ""


def print_answer_sources(answer: Answer) -> None:
    """The cited sources, then those only retrieved; for a not-found reply, the closest passages."""
    if not answer.sources:
        return
    if answer.not_found:
        typer.echo("\nClosest passages (none answers the question):")
        print_passages(answer.sources)
        return
    cited = [p for p in answer.sources if p.rank in answer.cited]
    others = [p for p in answer.sources if p.rank not in answer.cited]
    for heading, passages in (("Sources:", cited), ("Also retrieved, not cited:", others)):
        if passages:
            typer.echo(f"\n{heading}")
            print_passages(passages)


def _print_search(event: SourcesEvent) -> None:
    if event.query and event.query.condensed:
        typer.echo(f"(searching for: {event.query.text})")
    if not event.passages:
        typer.echo("(no passages found)", err=True)


def local_time(timestamp: float | None) -> str:
    """A stored time (seconds since the epoch) as the reader's local date and minute; None: "never"."""
    return "never" if timestamp is None else time.strftime("%Y-%m-%d %H:%M", time.localtime(timestamp))


def print_sessions(sessions: list[Session]) -> None:
    if not sessions:
        typer.echo("No conversations yet: start one with `askdocs chat` or `askdocs ask QUESTION`.")
    for session in sessions:
        when = local_time(session.updated_at)
        typer.echo(f"{session.id}  {when}  {session.turn_count:>3} turn(s)  {session.title}")


def print_session(session: Session) -> None:
    typer.echo(f"{session.id}  {session.title}  (started {local_time(session.created_at)})")
    for number, turn in enumerate(session.turns, 1):
        typer.echo(f"\n[{number}] you: {turn.question}")
        if turn.standalone != turn.question:
            typer.echo(f"    (searched for: {turn.standalone})")
        typer.echo(textwrap.indent(turn.answer, "    "))
        for sentence in turn.sentences:
            if not sentence["supported"]:
                typer.echo(f"    ✗ not supported by the sources: {sentence['text']}")
        cited = [s for s in turn.sources if s.get("cited")]
        for source in cited:
            page = f" p.{source['page']}" if source.get("page") is not None else ""
            typer.echo(f"    [{source['n']}] {source['file']}{page}")
