"""Build the running parts (embeddings, store, manifest, chain) from validated settings.

The CLI and the page call these once per process. Nothing here reads files or environment variables
beyond what the settings name.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from langchain_core.embeddings import Embeddings
from langchain_core.runnables import Runnable

from ingest.manifest import Manifest
from rag.chain import Budget, build_chain
from rag.embeddings import LazyEmbeddings
from rag.errors import StoreBusyError
from rag.evidence import MemoEmbed, select_evidence
from rag.llms import LoadedModel, build_llm
from rag.lock import write_lock
from rag.memory import ConversationStore
from rag.prompts import PROMPTS, system_message
from rag.retrieve import search
from rag.settings import Settings, cosine_scale
from rag.store import Store, StoreLayout, bring_lexical_in_step, lexical_in_step, open_store
from rag.support import check_answer


def open_collection(
    settings: Settings, embeddings: Embeddings | None = None, root: Path | None = None
) -> Store:
    """The configured store (or one at `root`), with the configured embedding model and Chroma server.

    Sentences are compared with `embeddings.sentence_model` (the same object when it is the model). An
    export or assembled GGUF the installation lacks is kept in the configured store's `models/embeddings/`
    (also for a collection at `root`, such as an evaluation's), so one serves them all."""
    exports = embedding_exports_dir(settings)
    embeddings = embeddings or LazyEmbeddings(settings.embeddings, exports)
    sentences = settings.embeddings.for_sentences
    store = open_store(
        root or settings.store.path,
        settings.store.collection,
        embeddings,
        settings.embeddings.identity,
        settings.store.server,
        embeddings if sentences is settings.embeddings else LazyEmbeddings(sentences, exports),
    )
    if not lexical_in_step(store):
        _rebuild_lexical_unless_busy(store)
    return store


def embedding_exports_dir(settings: Settings) -> Path:
    """Where exported embedding models (onnx-int8) are kept: the configured store's models folder."""
    return StoreLayout(settings.store.path).models_dir / "embeddings"


def _rebuild_lexical_unless_busy(store: Store) -> None:
    """Rebuild the lexical index from Chroma (a store made before it existed) if no writer holds the store;
    a writer at work (this process's own ingest included) brings it in step itself."""
    try:
        with write_lock(store.layout.root, "rebuilding the lexical index"):
            bring_lexical_in_step(store)
    except (StoreBusyError, OSError):  # busy, or a store folder this user may only read
        pass


def open_manifest(store: Store) -> Manifest:
    return Manifest(store.layout.manifest_path)


@contextmanager
def collection_and_manifest(settings: Settings, root: Path | None = None) -> Iterator[tuple[Store, Manifest]]:
    """The store and its manifest, both closed afterwards."""
    store = open_collection(settings, root=root)
    manifest = open_manifest(store)
    try:
        yield store, manifest
    finally:
        manifest.close()
        store.close()


def open_memory(settings: Settings) -> ConversationStore:
    """The stored conversations beside the configured store (no model or Chroma is loaded)."""
    return ConversationStore(StoreLayout(settings.store.path).conversations_path)


def load_model(
    settings: Settings, store: Store, llm_spec: str | None = None, warm_up: bool = True
) -> LoadedModel:
    """The chat model; with `warm_up`, a llama.cpp model starts evaluating the answer prompt's system
    message in the background at once (while `chat` or the page waits for a question, or `ask` loads
    the embedding model and retrieves), so a first question's prompt evaluation does not include it."""
    model = build_llm(llm_spec or settings.llm.spec, settings.llm, store.layout.models_dir)
    if warm_up and hasattr(model.chat, "warm_up"):
        model.chat.warm_up(system_message(PROMPTS[settings.answers.prompt]))
    return model


def answer_chain(
    settings: Settings,
    store: Store,
    model: LoadedModel,
    k: int | None = None,
    paths: list[str] | None = None,
) -> Runnable:
    """The conversational question-answering chain over `store` (or only `paths` in it)."""
    retriever = partial(search, store, k=k or settings.retrieval.k, paths=paths, options=settings.retrieval)
    budget = Budget(model.n_ctx, settings.llm.max_tokens, settings.chat.history_tokens, model.count_tokens)
    answers = settings.answers
    embed = MemoEmbed(store.sentence_embed)  # stored sentence vectors; the rest embedded once for both
    checker = partial(check_answer, embed=embed, threshold=answers.support_threshold)
    rarity = partial(store.lexical.rarity, paths=paths)  # words rare among the files asked about
    selector = partial(
        select_evidence,
        embed=embed,
        limit=answers.evidence_sentences,
        type_weight=answers.answer_type_weight,
        rarity=rarity,
        in_files=store.lexical.words_in_files,
        file_credit=answers.file_credit,
        passage_weight=answers.passage_weight,
        score_floor=cosine_scale(settings.embeddings.model).gate_floor,  # where the model's cosines lie
    )
    uses_evidence = any(
        [
            model.chat is None,  # no generator: the answer is the closest evidence sentence
            answers.evidence_sentences,
            answers.min_evidence,
            answers.extractive_fallback,
            answers.strong_evidence,
            answers.withhold_unsupported,
        ]
    )
    return build_chain(
        retriever,
        model.chat,
        budget,
        settings.chat.condense,
        checker=checker if answers.check_citations else None,
        prompt=PROMPTS[answers.prompt],
        evidence=selector if uses_evidence else None,
        min_evidence=answers.min_evidence,
        extractive_fallback=answers.extractive_fallback and answers.check_citations,
        strong_evidence=answers.strong_evidence,
        withhold_unsupported=answers.withhold_unsupported if answers.check_citations else 0.0,
        withhold_support=answers.withhold_support,
    )
