"""The chat column: stored turns, a streamed new answer, and the sources under each answer.

History always comes from the conversation store (the same `conversations.sqlite` the CLI uses), so a
conversation started in the terminal continues here and the other way round. This module draws; the
text logic lives in `ui.sources`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import streamlit as st

from rag.chain import Answer, DoneEvent, Event, SourcesEvent, TokenEvent
from rag.errors import AskdocsError
from rag.memory import ConversationStore, Session, Turn
from rag.settings import Settings
from rag.store import Store
from ui import sources as src
from ui.state import answer_lock, model_for

EMPTY_COLLECTION = (
    "**Your collection is empty.** Add documents in the sidebar under **Collection**: upload files "
    "(PDF, Word, PowerPoint, HTML, Markdown, text, CSV) or enter a folder path. Then ask here."
)
WELCOME = (
    "Ask a question about your documents. Answers cite their sources as [1], [2], …; "
    "open a source to see where it came from."
)


def current_session(memory: ConversationStore) -> Session | None:
    """The conversation this browser tab shows (None: a new chat, stored at its first question)."""
    session_id = st.session_state.get("session_id")
    if not session_id:
        return None
    try:
        return memory.load(session_id)
    except AskdocsError:
        st.session_state["session_id"] = None  # deleted elsewhere (e.g. `askdocs history --delete`)
        return None


def render_chat(settings: Settings, store: Store, memory: ConversationStore) -> None:
    session = current_session(memory)
    st.header(src.answer_markdown(session.title) if session else "New chat", anchor=False)
    empty = store.is_empty()
    if empty:
        st.info(EMPTY_COLLECTION, icon=":material/upload_file:")
    elif session is None or not session.turns:
        st.caption(WELCOME)
    for index, turn in enumerate(session.turns if session else []):
        key = f"{session.id}-{index}"
        show_turn(turn, key, st.session_state.get("warnings", {}).get(key))
    question = st.chat_input("Ask about your documents…", disabled=empty)
    if question and question.strip():
        ask(settings, store, memory, session, question.strip())


def show_turn(turn: Turn, key: str, warnings: list[str] | None = None) -> None:
    with st.chat_message("user"):
        st.markdown(src.answer_markdown(turn.question))
    with st.chat_message("assistant"):
        if turn.standalone and turn.standalone != turn.question:
            st.caption(f"Searched as: {src.answer_markdown(turn.standalone)}")
        st.markdown(src.checked_markdown(turn.answer, turn.sentences))
        for warning in warnings or []:
            st.caption(f":material/info: {warning}")
        show_sources(turn, key)


def ask(
    settings: Settings, store: Store, memory: ConversationStore, session: Session | None, question: str
) -> None:
    """Stream an answer to `question` in the current conversation (created now if it is new)."""
    from rag.components import answer_chain
    from rag.conversation import Conversation

    with st.chat_message("user"):
        st.markdown(src.answer_markdown(question))
    with st.chat_message("assistant"):
        try:
            chain = answer_chain(settings, store, model_for(settings, store))
            session = session or memory.create()
            st.session_state["session_id"] = session.id
            answer = stream_into_page(Conversation(chain, memory, session).stream(question), answer_lock())
        except AskdocsError as exc:
            st.error(str(exc), icon=":material/error:")
            return
    key = f"{session.id}-{len(session.turns) - 1}"
    st.session_state.setdefault("warnings", {})[key] = answer.warnings
    st.rerun()  # draw the stored turn (and the new conversation in the sidebar) like every other


def stream_into_page(events: Iterator[Event], lock: threading.Lock) -> Answer:
    """Show the tokens as they come, then the finished answer (checked citations, unsupported claims
    flagged) in their place."""
    done: list[Answer] = []
    status = st.empty()
    box = st.empty()
    if not lock.acquire(blocking=False):
        status.caption(":material/hourglass: Another tab is being answered; yours is next…")
        lock.acquire()
    status.caption(":material/search: Searching your documents…")

    def tokens() -> Iterator[str]:
        for event in events:
            if isinstance(event, SourcesEvent):
                status.caption(
                    f":material/edit_note: Writing the answer from {len(event.passages)} passages…"
                )
            elif isinstance(event, TokenEvent):
                yield event.text
            elif isinstance(event, DoneEvent):
                done.append(event.answer)

    try:
        with box.container():
            st.write_stream(tokens())
    finally:
        lock.release()
    status.empty()
    box.markdown(src.checked_markdown(done[0].text, done[0].sentences))
    return done[0]


def show_sources(turn: Turn, key: str) -> None:
    """Cited sources in full, the other retrieved ones folded away; for a not-found answer, the closest
    passages, which answer nothing."""
    sources = [src.Source.from_json(s) for s in turn.sources]
    if sources and src.is_not_found(turn.answer):
        st.markdown("**Closest passages** (none answers the question)")
        for source in sources:
            show_source(source, turn, f"{key}-{source.n}")
        return
    cited, also = src.split_cited(sources)
    if cited:
        st.markdown("**Sources**")
        for source in cited:
            show_source(source, turn, f"{key}-{source.n}")
    if also:
        with st.expander(f"Also retrieved, not cited ({len(also)})"):
            for source in also:
                show_source(source, turn, f"{key}-{source.n}")


def show_source(source: src.Source, turn: Turn, key: str) -> None:
    with st.container(border=True):
        st.markdown(
            f"**{src.escape_text(source.label)}** &nbsp; relevance {source.score:.2f}", unsafe_allow_html=True
        )
        spans = src.highlight_spans(source, turn.answer, turn.sentences)
        st.markdown(src.marked_html(source.display_text, spans), unsafe_allow_html=True)
        label = f"Open page {source.page}" if source.is_pdf and source.page else "Open in document"
        if st.toggle(label, key=f"open-{key}"):
            show_origin(source, turn)


def show_origin(source: src.Source, turn: Turn) -> None:
    path = Path(source.path)
    if not path.is_file():
        st.warning(f"{source.path} is no longer there: re-sync the collection.")
        return
    if source.is_pdf and source.page:
        marks = tuple(src.marks_for(source, turn.answer, turn.sentences))
        st.image(
            page_image(str(path), source.page, marks, path.stat().st_mtime_ns),
            caption=source.label,
            output_format="PNG",
            width=560,
        )
        return
    section = src.surrounding_text(path, source.text, source.page, source.heading)
    if section is None:
        st.warning(f"{source.file} cannot be read any more: re-sync the collection.")
        return
    span = src.find_span(section, source.text)
    st.markdown(src.marked_html(section, [span] if span else []), unsafe_allow_html=True)


@st.cache_data(show_spinner="Rendering the page…", max_entries=64)
def page_image(path: str, page: int, marks: tuple[str, ...], mtime_ns: int) -> bytes:
    return src.render_pdf_page(Path(path), page, list(marks))
