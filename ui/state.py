"""What the page keeps: resources built once per process (`st.cache_resource`) and per-browser state.

The settings file is chosen as the CLI chooses it (`ASKDOCS_SETTINGS`, else `./settings.yaml`, else the
project's), and `ASKDOCS_STORE` overrides the store folder; `askdocs ui` passes both to the page. The
embedding model, the Chroma store, the conversation store and each chat model are built once and shared
by every browser tab; writes to the store take this process's lock and the store's file lock
(`rag.lock`), so a CLI `ingest` running at the same time is named instead of corrupting anything. Nothing
heavy happens at import time. This module does not draw anything.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import streamlit as st

from ingest.manifest import Manifest
from rag.llms import LoadedModel
from rag.memory import ConversationStore
from rag.settings import Settings, load_settings
from rag.store import Store

PROJECT_SETTINGS = Path(__file__).resolve().parent.parent / "settings.yaml"


def settings_path() -> Path | None:
    """The settings file in use (the same choice as the CLI's); None means the defaults."""
    explicit = os.environ.get("ASKDOCS_SETTINGS")
    if explicit:
        return Path(explicit)
    for candidate in (Path.cwd() / "settings.yaml", PROJECT_SETTINGS):
        if candidate.is_file():
            return candidate
    return None


def current_settings() -> Settings:
    """Settings as the file says now, with the `ASKDOCS_STORE` override applied."""
    settings = load_settings(settings_path())
    store = os.environ.get("ASKDOCS_STORE")
    return settings.with_store(Path(store).absolute()) if store else settings


@st.cache_resource(show_spinner="Opening the document store…")
def shared_store(root: str, collection: str, embedding_model: str, server: str, _settings: Settings) -> Store:
    from rag.components import open_collection

    return open_collection(_settings, root=Path(root))


@st.cache_resource(show_spinner=False)
def shared_memory(path: str) -> ConversationStore:
    return ConversationStore(Path(path))


@st.cache_resource(show_spinner="Loading the language model…")
def shared_model(spec: str, llm_key: str, _settings: Settings, _store: Store) -> LoadedModel:
    from rag.components import load_model

    return load_model(_settings, _store, spec)


@st.cache_resource(show_spinner=False)
def answer_lock() -> threading.Lock:
    """One answer at a time per process: a local model (llama.cpp) is not safe to run from two threads."""
    return threading.Lock()


@st.cache_resource(show_spinner=False)
def _thread_lock(root: str) -> threading.Lock:
    return threading.Lock()


@contextmanager
def write_lock(root: str) -> Iterator[None]:
    """One writer per store folder: this page's tabs queue on a thread lock, and another process (a CLI
    `ingest`) holding the store's file lock makes the write fail with `StoreBusyError`, naming it."""
    from rag.lock import write_lock as store_write_lock

    with _thread_lock(root), store_write_lock(Path(root), "chat page"):
        yield


def store_for(settings: Settings) -> Store:
    store = settings.store
    identity = settings.embeddings.identity
    return shared_store(str(store.path), store.collection, identity, store.server, settings)


def memory_for(settings: Settings) -> ConversationStore:
    from rag.store import StoreLayout

    return shared_memory(str(StoreLayout(settings.store.path).conversations_path))


def model_for(settings: Settings, store: Store) -> LoadedModel:
    """The configured chat model, built on first use; a change of any `llm` setting builds a new one."""
    return shared_model(settings.llm.spec, settings.llm.model_dump_json(), settings, store)


def preload_model(settings: Settings, store: Store) -> None:
    """Build the chat model before the first question: a llama.cpp model then evaluates the answer
    prompt's system message in the background while the question is typed. A model that fails to load
    says so at the first question instead (the page still opens)."""
    from rag.errors import AskdocsError

    try:
        model_for(settings, store)
    except AskdocsError:
        pass


@contextmanager
def manifest_for(store: Store) -> Iterator[Manifest]:
    """The manifest, opened for this script run (SQLite connections stay in their thread)."""
    manifest = Manifest(store.layout.manifest_path)
    try:
        yield manifest
    finally:
        manifest.close()
