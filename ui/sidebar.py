"""The sidebar: conversations (new, switch, rename, delete), the collection (add, remove, re-sync), settings.

Each action changes the stores or the settings file and reruns the page; results a person should see
after the rerun (an ingestion report) are kept in `st.session_state`. Logic is in `ui.collection`,
`ui.uploads` and `rag.settings`; this module draws and wires.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import streamlit as st

from ingest.manifest import Manifest
from ingest.sync import SyncReport
from rag.errors import AskdocsError
from rag.memory import ConversationStore
from rag.settings import Settings, update_settings_file
from rag.store import Store
from ui import collection as coll
from ui import uploads
from ui.state import PROJECT_SETTINGS, manifest_for, settings_path, write_lock

MAX_LISTED = 30


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


# ---- conversations


def render_conversations(memory: ConversationStore) -> None:
    current = st.session_state.get("session_id")
    if st.button("New chat", icon=":material/add:", width="stretch", disabled=current is None):
        st.session_state["session_id"] = None
        st.rerun()
    sessions = memory.sessions()[:MAX_LISTED]
    if not sessions:
        st.caption("No conversations yet.")
    for session in sessions:
        label = f"{session.title} · {session.turn_count}"
        kind = "primary" if session.id == current else "secondary"
        if st.button(label, key=f"session-{session.id}", type=kind, width="stretch"):
            st.session_state["session_id"] = session.id
            st.rerun()
    if current:
        render_current_actions(memory, current)


def render_current_actions(memory: ConversationStore, session_id: str) -> None:
    with st.expander("This conversation"):
        title = st.text_input("Title", key=f"title-{session_id}")
        if st.button("Rename", key="rename", disabled=not title.strip()):
            memory.rename(session_id, title)
            st.rerun()
        if st.button("Delete conversation", key="delete", icon=":material/delete:"):
            memory.delete(session_id)
            st.session_state["session_id"] = None
            st.rerun()
        st.caption(f"id {session_id} · continue it in a terminal: `askdocs chat --session {session_id}`")


# ---- collection


def render_collection(settings: Settings, store: Store) -> None:
    with manifest_for(store) as manifest:
        info = coll.collection_info(store, manifest)
        files = coll.files_table(manifest)
    st.caption(
        f"{plural(info.files, 'file')} · {plural(info.chunks, 'chunk')} · last sync {info.last_sync_text}  \n"
        f"embeddings: {info.embedding_model or settings.embeddings.identity}"
    )
    show_last_report()
    render_add(settings, store)
    if files:
        render_files(settings, store, files)


def render_add(settings: Settings, store: Store) -> None:
    counter = st.session_state.setdefault("upload_round", 0)
    chosen = st.file_uploader(
        f"Upload documents (up to {settings.ui.upload_max_mb} MB each)",
        type=uploads.supported_types(),
        accept_multiple_files=True,
        key=f"upload-{counter}",
    )
    folder = st.text_input(
        "…or a folder or file on this machine", key=f"folder-{counter}", placeholder="~/papers"
    )
    if st.button(
        "Add to collection", icon=":material/library_add:", disabled=not chosen and not folder.strip()
    ):
        paths, problems = gather(settings, store, chosen or [], folder)
        report = None
        if paths:
            report = run_sync(
                store,
                lambda manifest, progress: coll.ingest_paths(
                    paths, store, manifest, settings.chunking, progress
                ),
            )
        finish(report, problems)


def gather(settings: Settings, store: Store, chosen: list, folder: str) -> tuple[list[Path], list[str]]:
    """Uploads saved under `<store>/uploads/` and the typed path, with one line per refused item."""
    paths, problems = [], []
    target = store.layout.root / uploads.UPLOAD_FOLDER
    for item in chosen:
        data = item.getvalue()
        problem = uploads.upload_problem(item.name, len(data), settings.ui.upload_max_mb)
        if problem:
            problems.append(problem)
        else:
            paths.append(uploads.save_upload(target, item.name, data))
    if folder.strip():
        path = Path(folder.strip()).expanduser()
        if path.exists():
            paths.append(path)
        else:
            problems.append(f"{folder.strip()}: no such file or folder")
    return paths, problems


def run_sync(store: Store, work: Callable[[Manifest, coll.Progress], SyncReport]) -> SyncReport | None:
    """Run a sync under the write lock with a progress bar; an askdocs error is shown, not raised."""
    bar = st.progress(0.0, text="Preparing…")

    def progress(done: int, total: int, name: str) -> None:
        text = f"Ingesting {name} ({done + 1} of {total})" if name else f"Done: {total} files checked"
        bar.progress(done / total if total else 1.0, text=text)

    try:
        with write_lock(str(store.layout.root)), manifest_for(store) as manifest:
            return work(manifest, progress)
    except AskdocsError as exc:
        st.error(str(exc))
        return None


def finish(report: SyncReport | None, problems: list[str], summary: str = "") -> None:
    """Keep the report for the next run (which shows it), reset the inputs, rerun."""
    if report:
        problems = problems + coll.report_problems(report)
        summary = coll.report_summary(report)
    st.session_state["last_report"] = (summary, problems)
    st.session_state["upload_round"] = st.session_state.get("upload_round", 0) + 1
    st.rerun()


def show_last_report() -> None:
    summary, problems = st.session_state.get("last_report", ("", []))
    if summary:
        st.success(summary, icon=":material/check_circle:")
    for problem in problems:
        st.error(problem, icon=":material/error:")


def render_files(settings: Settings, store: Store, files: list[dict]) -> None:
    with st.expander(f"Files ({len(files)})"):
        st.dataframe(
            [{k: row[k] for k in ("file", "chunks", "ingested")} for row in files],
            hide_index=True,
            width="stretch",
        )
        names = {row["path"]: f"{row['file']} ({row['folder']})" for row in files}
        chosen = st.selectbox("File", list(names), format_func=names.get, key="remove-choice")
        if st.button("Remove from collection", icon=":material/delete:", key="remove"):
            try:
                with write_lock(str(store.layout.root)), manifest_for(store) as manifest:
                    coll.remove_file(store, manifest, chosen)
            except AskdocsError as exc:
                st.error(str(exc))
                return
            finish(None, [], f"Removed {names[chosen]} from the collection (the file itself is kept)")
    if st.button(
        "Re-sync all files", icon=":material/sync:", help="Re-index changed files, drop vanished ones"
    ):
        finish(
            run_sync(
                store, lambda manifest, progress: coll.resync(store, manifest, settings.chunking, progress)
            ),
            [],
        )


# ---- settings


def render_settings(settings: Settings) -> None:
    path = settings_path() or PROJECT_SETTINGS
    with st.form("settings"):
        spec = st.text_input(
            "Model",
            settings.llm.spec,
            help="llamacpp (packaged default), llamacpp:qwen2.5-coder-1.5b (larger, `make larger-model`), "
            "llamacpp:PATH.gguf, ollama:MODEL, "
            "extractive (quotes the closest source sentence, no generator), fake",
        )
        url = st.text_input("Ollama URL", settings.llm.ollama_url)
        k = st.number_input("Sources per answer (k)", 1, 100, settings.retrieval.k)
        history = st.number_input("History budget (tokens)", 0, 65536, settings.chat.history_tokens, step=100)
        saved = st.form_submit_button("Save settings")
    st.caption(f"Saved to {path}")
    if saved:
        save_settings(path, spec, url, int(k), int(history))


def save_settings(path: Path, spec: str, url: str, k: int, history: int) -> None:
    from rag.llms import parse_spec

    try:
        parse_spec(spec)
        update_settings_file(
            path,
            {
                "llm": {"spec": spec.strip(), "ollama_url": url.strip()},
                "retrieval": {"k": k},
                "chat": {"history_tokens": history},
            },
        )
    except AskdocsError as exc:
        st.error(str(exc))
        return
    st.toast("Settings saved", icon=":material/check:")
    st.rerun()
