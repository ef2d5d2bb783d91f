"""The askdocs chat page (Streamlit): started by `askdocs ui` or `make run` (`streamlit run ui/app.py` too).

The chat fills the page; the sidebar holds conversations, the collection and settings. The offline
environment is applied before anything else is imported. Store and models are built once and cached per
process (see `ui.state`); the chat model is loaded once the page is drawn, so its warm-up runs while the
first question is typed. This module only lays the page out.
"""

from __future__ import annotations

from rag.offline import apply_offline_environment

apply_offline_environment()

import streamlit as st  # noqa: E402

from rag.errors import AskdocsError  # noqa: E402

PAGE_STYLE = """
<style>
.askdocs-passage { font-size: 0.9rem; line-height: 1.45; color: var(--text-color); }
.askdocs-passage mark { background: #ffe58f; padding: 0 2px; border-radius: 2px; }
</style>
"""


def main() -> None:
    from ui.chat import render_chat
    from ui.sidebar import render_collection, render_conversations, render_settings
    from ui.state import current_settings, memory_for, preload_model, store_for

    st.set_page_config(page_title="askdocs", page_icon=":material/description:", layout="wide")
    st.markdown(PAGE_STYLE, unsafe_allow_html=True)
    st.session_state.setdefault("session_id", None)  # None: a new chat, stored at its first question
    try:
        settings = current_settings()
        store = store_for(settings)
    except AskdocsError as exc:
        st.error(str(exc), icon=":material/error:")
        st.stop()
    memory = memory_for(settings)
    render_chat(settings, store, memory)
    with st.sidebar:
        st.title("askdocs", anchor=False)
        st.caption("Answers from your documents, on this machine.")
        render_conversations(memory)
        st.divider()
        # Open while empty, and after an action in it (so its report stays in view).
        open_collection = store.is_empty() or "last_report" in st.session_state
        with st.expander("Collection", icon=":material/folder:", expanded=open_collection):
            render_collection(settings, store)
        with st.expander("Settings", icon=":material/settings:"):
            render_settings(settings)
    if not store.is_empty():  # last, so the page is drawn first
        preload_model(settings, store)


main()
