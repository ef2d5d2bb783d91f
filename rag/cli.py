"""The `askdocs` command line: thin commands over the library.

Errors from askdocs become one line on stderr and an exit code (2 for usage mistakes, 1 for run-time
failures); no tracebacks for things a person can fix. The console script sets the offline environment
(no model hub, no telemetry) before anything heavy is imported.
"""

from __future__ import annotations

import json
import sys
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Annotated

import typer

from rag.errors import AskdocsError, StoreError
from rag.offline import apply_offline_environment
from rag.settings import Settings, load_settings

app = typer.Typer(
    help="Ask questions about your own documents, with cited answers, fully offline.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

_PROJECT_SETTINGS = Path(__file__).resolve().parent.parent / "settings.yaml"

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]
KOption = Annotated[
    int | None, typer.Option("--k", min=1, max=100, help="Passages to retrieve (default: settings).")
]
FileOption = Annotated[
    list[str] | None,
    typer.Option("--file", help="Only this file: name, path end or absolute path (repeatable)."),
]
WhereOption = Annotated[
    list[str] | None, typer.Option("--where", help="Only files under this folder (repeatable).")
]


def _settings_path(explicit: Path | None) -> Path | None:
    if explicit is not None:
        return explicit
    for candidate in (Path.cwd() / "settings.yaml", _PROJECT_SETTINGS):
        if candidate.is_file():
            return candidate
    return None


@app.callback()
def _global(
    ctx: typer.Context,
    store: Annotated[
        Path | None,
        typer.Option("--store", envvar="ASKDOCS_STORE", help="Store folder (overrides settings)."),
    ] = None,
    settings: Annotated[
        Path | None, typer.Option("--settings", envvar="ASKDOCS_SETTINGS", help="Settings file (YAML).")
    ] = None,
) -> None:
    loaded = load_settings(_settings_path(settings))
    ctx.obj = loaded.with_store(store.absolute()) if store else loaded


def _emit(data: dict) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=None))


@app.command()
def ingest(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Folders or files to add or refresh.")],
    prune: Annotated[bool, typer.Option("--prune", help="Remove files that vanished under PATHS.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would change; change nothing.")
    ] = False,
    wait: Annotated[
        float, typer.Option("--wait", min=0, help="Seconds to wait if another process is writing.")
    ] = 0,
    as_json: JsonFlag = False,
) -> None:
    """Add new files, re-index changed ones, skip unchanged ones."""
    from ingest.sync import sync
    from rag.components import collection_and_manifest
    from rag.lock import write_lock

    settings: Settings = ctx.obj
    with (
        write_lock(settings.store.path, "ingest", wait),
        collection_and_manifest(settings) as (store, manifest),
    ):
        report = sync(paths, store, manifest, settings.chunking, prune=prune, dry_run=dry_run, progress=True)
    if as_json:
        _emit(report.to_json())
    else:
        from rag.render import print_sync_report

        print_sync_report(report)


@app.command("retrieve")
def retrieve_command(
    ctx: typer.Context,
    query: str,
    k: KOption = None,
    file: FileOption = None,
    where: WhereOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Show the passages a question retrieves, without generating an answer."""
    from rag.render import print_passages
    from rag.retrieve import search

    settings: Settings = ctx.obj
    store = _nonempty_store(settings)
    paths = _filter_paths(store, file, where)
    found = search(store, query, k or settings.retrieval.k, paths, settings.retrieval)
    if as_json:
        _emit({"results": [p.retrieve_json() for p in found.passages], "weak_evidence": found.weak_evidence})
    else:
        print_passages(found.passages)
        if found.weak_evidence:
            typer.echo(
                "(weak evidence: no passage is close to the question; it may not be in your documents)"
            )


LlmOption = Annotated[
    str | None,
    typer.Option(
        "--llm",
        help="llamacpp (the packaged default), llamacpp:qwen2.5-coder-1.5b (`make larger-model`), "
        "llamacpp:PATH.gguf, ollama:MODEL, extractive (no model) or fake",
    ),
]
SessionOption = Annotated[
    str | None, typer.Option("--session", "-s", help="Continue this stored conversation (id or prefix).")
]


@app.command()
def ask(
    ctx: typer.Context,
    question: str,
    k: KOption = None,
    llm: LlmOption = None,
    session: SessionOption = None,
    resume: Annotated[
        bool, typer.Option("--continue", "-c", help="Continue the most recent conversation.")
    ] = False,
    file: FileOption = None,
    where: WhereOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Answer a question from your documents, citing the passages it rests on (saved as a conversation)."""
    from rag.render import print_streamed_answer

    settings: Settings = ctx.obj
    with _conversation(settings, llm, k, session, resume, file, where) as conversation:
        if as_json:
            _emit(conversation.to_json(conversation.ask(question)))
            return
        print_streamed_answer(conversation.stream(question))
        typer.echo(
            f"(conversation {conversation.session.id}: continue with --session {conversation.session.id})"
        )


@app.command()
def chat(
    ctx: typer.Context,
    session: SessionOption = None,
    k: KOption = None,
    llm: LlmOption = None,
    file: FileOption = None,
    where: WhereOption = None,
) -> None:
    """Chat with your documents in the terminal; follow-up questions keep the thread."""
    from rag.terminal import run_chat

    settings: Settings = ctx.obj
    with _conversation(settings, llm, k, session, False, file, where) as conversation:
        run_chat(conversation.chain, conversation.memory, conversation.session)


@app.command()
def history(
    ctx: typer.Context,
    session: Annotated[str | None, typer.Argument(help="A conversation id (or prefix) to show.")] = None,
    rename: Annotated[str | None, typer.Option("--rename", help="Give the conversation a title.")] = None,
    delete: Annotated[bool, typer.Option("--delete", help="Delete the conversation.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """List stored conversations, or show, rename or delete one."""
    from rag.components import open_memory
    from rag.conversation import condense_counts
    from rag.render import print_session, print_sessions

    settings: Settings = ctx.obj
    if (rename or delete) and not session:
        raise typer.BadParameter("--rename and --delete need a conversation id")
    with closing(open_memory(settings)) as memory:
        if session and delete:
            memory.delete(session)
            return typer.echo(f"deleted conversation {session}")
        if session and rename:
            memory.rename(session, rename)
        if session is None:
            found = memory.sessions()
            return (
                _emit({"sessions": [s.summary_json() for s in found]}) if as_json else print_sessions(found)
            )
        shown = memory.load(session)
    if as_json:
        return _emit({**shown.to_json(), **condense_counts(shown.turns)})
    print_session(shown)


@contextmanager
def _conversation(
    settings: Settings,
    llm: str | None,
    k: int | None,
    session: str | None,
    resume: bool,
    file: list[str] | None = None,
    where: list[str] | None = None,
):
    """The conversation to answer in (the named one, the latest, or a new one), over the filtered store."""
    from rag.components import answer_chain, load_model, open_memory
    from rag.conversation import Conversation
    from rag.llms import parse_spec

    parse_spec(llm or settings.llm.spec)  # a bad spec is a usage error before anything loads
    store = _nonempty_store(settings)
    paths = _filter_paths(store, file, where)
    with closing(open_memory(settings)) as memory:
        chosen = memory.load(session) if session else (memory.latest() if resume else None)
        chain = answer_chain(settings, store, load_model(settings, store, llm), k, paths)
        yield Conversation(chain, memory, chosen or memory.create())  # created once the model is up


@app.command()
def status(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Where the store is, which embedding model it uses, and what it holds."""
    from rag.components import collection_and_manifest

    settings: Settings = ctx.obj
    with collection_and_manifest(settings) as (store, manifest):
        info = {
            "store": str(settings.store.path),
            "collection": settings.store.collection,
            "embedding_model": store.embedding_model,
            "files": len(manifest.all()),
            "chunks": store.count(),
            "sentence_vectors": store.sentences.count(),
            "last_sync": manifest.last_sync(),
            "llm": settings.llm.spec,
        }
    if as_json:
        _emit(info)
    else:
        from rag.render import local_time

        for key, value in {**info, "last_sync": local_time(info["last_sync"])}.items():
            typer.echo(f"{key:>16}: {value}")


@app.command()
def ui(
    ctx: typer.Context,
    port: Annotated[
        int | None, typer.Option("--port", min=1, max=65535, help="Port (default: ui.port).")
    ] = None,
    host: Annotated[
        str | None, typer.Option("--host", help="Address to bind (default: ui.host, loopback).")
    ] = None,
) -> None:
    """Open the chat page in your browser (Streamlit, on this machine only by default)."""
    import os
    import subprocess

    settings: Settings = ctx.obj
    command = ui_command(settings, port, host)
    env = {**os.environ, "ASKDOCS_STORE": str(settings.store.path)}
    chosen = _settings_path(ctx.parent.params.get("settings") if ctx.parent else None)
    if chosen is not None:
        env["ASKDOCS_SETTINGS"] = str(chosen.absolute())
    typer.echo(
        f"askdocs page: http://{host or settings.ui.host}:{port or settings.ui.port} (Ctrl-C stops it)"
    )
    raise typer.Exit(subprocess.call(command, env=env))


def ui_command(settings: Settings, port: int | None = None, host: str | None = None) -> list[str]:
    """The `streamlit run` command line for the page: headless, no usage statistics, upload limit set."""
    page = Path(__file__).resolve().parent.parent / "ui" / "app.py"
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(page),
        "--server.address",
        host or settings.ui.host,
        "--server.port",
        str(port or settings.ui.port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.maxUploadSize",
        str(settings.ui.upload_max_mb),
        "--server.fileWatcherType",
        "none",
        "--client.toolbarMode",
        "viewer",
    ]


@app.command("eval")
def eval_command(
    ctx: typer.Context,
    dataset: Annotated[Path, typer.Argument(help="Folder with docs/ and qa.jsonl.")],
    configs: Annotated[
        list[Path] | None, typer.Argument(help="With --compare: settings files whose retrieval to score.")
    ] = None,
    k: KOption = None,
    fresh: Annotated[
        bool, typer.Option("--fresh", help="Rebuild the dataset's collection from scratch.")
    ] = False,
    compare: Annotated[
        bool, typer.Option("--compare", help="Score the retrieval: section of each settings file given.")
    ] = False,
    chart: Annotated[
        Path | None, typer.Option("--chart", help="With --compare: chart PNG (default: eval-DATASET.png).")
    ] = None,
    answers: Annotated[
        bool, typer.Option("--answers", help="Generate answers and score them (F1, citations, refusals).")
    ] = False,
    limit: Annotated[
        int, typer.Option("--limit", min=0, help="With --answers: questions to answer (0: all unflagged).")
    ] = 40,
    absent: Annotated[
        int,
        typer.Option("--absent", min=0, help="With --answers: of those, ask this many without their files."),
    ] = 20,
    seed: Annotated[
        int, typer.Option("--seed", help="With --answers: which sample of questions (same seed: same ones).")
    ] = 0,
    llm: LlmOption = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="With --answers: write each question's record (JSON lines).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Score retrieval on a question set: hit@1, hit@k, MRR, recall of gold files, stage latencies;
    with --answers, the generated answers: token F1, containment, citation precision, refusals, speed.

    Examples: askdocs eval ../shared/eval/aragog --compare dense.yaml hybrid.yaml;
    askdocs eval ../shared/eval/covidqa_dev --answers --limit 40
    """
    from rag.evaluate import run_eval

    settings: Settings = ctx.obj
    if answers:
        _eval_answers(settings, dataset, limit, absent, seed, llm, out, as_json)
        return
    options = _compared_retrievals(configs, compare)
    k = k or settings.retrieval.k
    result = run_eval(settings, dataset, k, fresh=fresh, progress=True, configs=options)
    if options is not None:
        _report_comparison(result, chart or Path(f"eval-{result['dataset']}.png"), as_json)
    elif as_json:
        _emit(result)
    else:
        for key, value in result.items():
            typer.echo(f"{key:>24}: {value}")


def _eval_answers(
    settings: Settings,
    dataset: Path,
    limit: int,
    absent: int,
    seed: int,
    llm: str | None,
    out: Path | None,
    as_json: bool,
) -> None:
    from rag.answer_eval import run_answer_eval
    from rag.llms import build_llm
    from rag.store import StoreLayout

    if llm:
        settings = settings.model_copy(update={"llm": settings.llm.model_copy(update={"spec": llm})})
    model = build_llm(settings.llm.spec, settings.llm, StoreLayout(settings.store.path).models_dir)
    result = run_answer_eval(settings, dataset, model, limit or None, absent, seed, progress=not as_json)
    records = result.pop("records")
    if out:
        out.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    if as_json:
        _emit(result)
        return
    for key, value in result.items():
        typer.echo(f"{key:>26}: {value}")


def _compared_retrievals(configs: list[Path] | None, compare: bool) -> dict | None:
    """Each settings file's retrieval section by the file's name, or None without --compare."""
    if not compare:
        if configs:
            raise typer.BadParameter("settings files after DATASET need --compare")
        return None
    if not configs:
        raise typer.BadParameter("--compare needs one or more settings files after DATASET")
    return {path.stem: load_settings(path).retrieval for path in configs}


def _report_comparison(result: dict, chart: Path, as_json: bool) -> None:
    from rag.compare import bar_chart, table

    title = f"{result['dataset']} ({result['results'][0]['questions']} questions)"
    result["chart"] = str(bar_chart(result["results"], title, chart))
    if as_json:
        _emit(result)
    else:
        typer.echo(table(result["results"]))
        typer.echo(f"chart: {result['chart']}")


def _filter_paths(store, files: list[str] | None, folders: list[str] | None) -> list[str] | None:
    """The stored paths `--file`/`--where` select, or None when neither is given."""
    if not files and not folders:
        return None
    from rag.filters import select_paths

    return select_paths(store.lexical.paths(), files or (), folders or ())


def _nonempty_store(settings: Settings):
    from rag.components import open_collection

    store = open_collection(settings)
    if store.is_empty():
        raise StoreError(
            f"the store at {settings.store.path} has no documents: run `askdocs ingest FOLDER` first"
        )
    return store


LOST_SERVER = "a server stopped answering mid-command (is the Chroma server at store.server still running?)"


def main() -> None:
    """Console-script entry point."""
    import httpx

    apply_offline_environment()
    try:
        app()
    except AskdocsError as exc:
        typer.echo(exc.one_line(), err=True)
        sys.exit(exc.exit_code)
    except httpx.TransportError as exc:  # a Chroma server (store.server) that went away mid-command
        typer.echo(f"askdocs: {LOST_SERVER}: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        typer.echo("askdocs: interrupted", err=True)
        sys.exit(130)
