"""Human-readable terminal output for the CLI: sync summaries, passages, streamed answers.

Only formatting and printing; JSON output is built by the commands themselves.
"""

from __future__ import annotations

import textwrap
import time
from collections.abc import Iterable

import typer

from ingest.sync import SyncReport
from rag.chain import DoneEvent, Event, SourcesEvent, TokenEvent
from rag.memory import Session
from rag.passages import Passage

_EXCERPT = 240


def _excerpt(text: str) -> str:
    return textwrap.shorten(" ".join(text.split()), _EXCERPT, placeholder=" …")


def print_sync_report(report: SyncReport) -> None:
    prefix = "dry run, nothing changed: would be " if report.dry_run else ""
    typer.echo(
        f"{prefix}{len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged, {len(report.removed)} removed "
        f"— {report.chunks} chunks in the store"
        + (f" ({report.embedded_chunks} embedded now)" if report.embedded_chunks else "")
    )
    for entry in report.skipped:
        typer.echo(f"  skipped {entry['path']}: {entry['reason']}")
    for entry in report.failed:
        typer.echo(f"  FAILED  {entry['path']}: {entry['error']}")
    if report.missing:
        typer.echo(
            f"  {len(report.missing)} ingested file(s) no longer exist; run with --prune to remove them"
        )


def print_passages(passages: Iterable[Passage], cited: Iterable[int] = ()) -> None:
    cited = set(cited)
    for passage in passages:
        mark = "*" if passage.rank in cited else " "
        typer.echo(f"{mark}[{passage.rank}] {passage.location}  (score {passage.score:.3f})")
        typer.echo(textwrap.indent(_excerpt(passage.text), "     "))


def print_streamed_answer(events: Iterable[Event]) -> None:
    """Print tokens as they arrive, then the sources (cited ones marked with *)."""
    streamed: list[str] = []
    for event in events:
        if isinstance(event, TokenEvent):
            streamed.append(event.text)
            typer.echo(event.text, nl=False)
        elif isinstance(event, DoneEvent):
            answer = event.answer
            if answer.text != "".join(streamed).strip():
                typer.echo(f"\n\nWith citations matched to the sources:\n{answer.text}", nl=False)
            typer.echo("\n\nSources (* = cited):" if answer.sources else "")
            print_passages(answer.sources, answer.cited)
            for warning in answer.warnings:
                typer.echo(f"note: {warning}", err=True)
        elif isinstance(event, SourcesEvent):
            _print_search(event)


def _print_search(event: SourcesEvent) -> None:
    if event.query and event.query.condensed:
        typer.echo(f"(searching for: {event.query.text})")
    if not event.passages:
        typer.echo("(no passages found)", err=True)


def _when(timestamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(timestamp))


def print_sessions(sessions: list[Session]) -> None:
    if not sessions:
        typer.echo("No conversations yet: start one with `askdocs chat` or `askdocs ask QUESTION`.")
    for session in sessions:
        typer.echo(
            f"{session.id}  {_when(session.updated_at)}  {session.turn_count:>3} turn(s)  {session.title}"
        )


def print_session(session: Session) -> None:
    typer.echo(f"{session.id}  {session.title}  (started {_when(session.created_at)})")
    for number, turn in enumerate(session.turns, 1):
        typer.echo(f"\n[{number}] you: {turn.question}")
        if turn.standalone != turn.question:
            typer.echo(f"    (searched for: {turn.standalone})")
        typer.echo(textwrap.indent(turn.answer, "    "))
        cited = [s for s in turn.sources if s.get("cited")]
        for source in cited:
            page = f" p.{source['page']}" if source.get("page") is not None else ""
            typer.echo(f"    [{source['n']}] {source['file']}{page}")
