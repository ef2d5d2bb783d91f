"""llama.cpp as a LangChain chat model, over `llama_cpp.Llama.create_chat_completion`.

A thin adapter of our own instead of `langchain_community.chat_models.ChatLlamaCpp`: langchain-community
is being sunset (it warns so on import), and its `n_ctx` default of 512 silently cut prompts. The GGUF's
own chat template is used; the context window, threads and batch size are always set explicitly.

Time to first token on a CPU is prompt evaluation, and llama.cpp reuses the evaluated tokens a new
prompt shares with the last one. `warm_up` evaluates a system message in a background thread (while the
caller retrieves and loads the embedding model), so the first question's prompt evaluation starts after
it; a lock keeps the warm-up and the answers one at a time. Every completion is sampled from `seed`, so
an answer depends on its prompt only, not on how many answers came before it (llama-cpp-python moves
its seed on after each unseeded completion) and evaluated in the same two parts, the warm-up's and the
rest (`_keep_warm_part`). An answer that starts repeating itself is
ended there and generation stops (`rag.repeats`). This module does not find or assemble model files (see
`rag.packaged`).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGenerationChunk
from pydantic import PrivateAttr

from rag.errors import ModelError
from rag.llms.base import StreamingChatModel
from rag.packaged import NAMED_GGUFS
from rag.repeats import stop_repeats
from rag.settings import LLMSettings

GGUF_MAGIC = b"GGUF"
_ROLES = {"system": "system", "human": "user", "ai": "assistant"}


def check_gguf(path: Path) -> None:
    """Refuse a missing file or one that is not GGUF, before llama.cpp tries to load it."""
    if not path.is_file():
        named = ", ".join(f"llamacpp:{name}" for name in NAMED_GGUFS)
        raise ModelError(
            f"GGUF model not found: {path} (check --llm llamacpp:PATH.gguf or llm.spec; packaged models "
            f"by name: {named})"
        )
    with path.open("rb") as handle:
        if handle.read(4) != GGUF_MAGIC:
            raise ModelError(f"{path} is not a GGUF model file (expected a .gguf from llama.cpp)")


class LlamaCppChat(StreamingChatModel):
    """A loaded GGUF model answering chat messages, streaming token by token."""

    model_path: str
    n_ctx: int
    max_tokens: int
    temperature: float
    seed: int = 0
    _llama: Any = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _cached_system: str | None = PrivateAttr(default=None)  # the system message the cache starts with
    _warm_tokens: list[int] | None = PrivateAttr(default=None)  # what the warm-up left in the cache

    def model_post_init(self, context: Any) -> None:
        self._llama = None

    def load(self, threads: int, batch: int) -> LlamaCppChat:
        from llama_cpp import Llama

        self._llama = Llama(
            model_path=self.model_path,
            n_ctx=self.n_ctx,
            n_threads=threads,
            n_batch=batch,
            seed=self.seed,
            verbose=False,
        )
        self._cached_system = None
        self._warm_tokens = None
        return self

    def warm_up(self, system: str) -> threading.Thread | None:
        """Evaluate `system` as a prompt's system message in the background, unless the model's cache
        already starts with it; answers wait for the warm-up to finish."""
        if system == self._cached_system:
            return None
        thread = threading.Thread(target=self._evaluate_system, args=(system,), daemon=True)
        thread.start()
        return thread

    def _evaluate_system(self, system: str) -> None:
        with self._lock:
            self._warm(system)

    def _warm(self, system: str | None) -> None:
        """Evaluate `system` with a stand-in user turn, unless the cache starts with it (lock held)."""
        if system is None or system == self._cached_system:
            self._cached_system = system
            return
        messages = [{"role": "system", "content": system}, {"role": "user", "content": "?"}]
        self._llama.create_chat_completion(messages, max_tokens=1, temperature=0.0, seed=self.seed)
        self._cached_system = system
        self._warm_tokens = self._llama.input_ids[: self._llama.n_tokens].tolist()

    @property
    def context_window(self) -> int:
        """The context llama.cpp allocated: `n_ctx`, unless the model was trained on less."""
        import llama_cpp

        return min(self._llama.n_ctx(), llama_cpp.llama_model_n_ctx_train(self._llama.model))

    def count_tokens(self, text: str) -> int:
        """Tokens in `text` by the model's own tokenizer."""
        return len(self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    @property
    def _llm_type(self) -> str:
        return "llama.cpp"

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        with self._lock:
            completion = self._completion(messages, stop, kwargs.get("max_tokens", self.max_tokens))
            texts = (part["choices"][0]["delta"].get("content") or "" for part in completion)
            for text in stop_repeats(texts):  # generation stops where the answer starts looping
                if text:
                    yield self.token_chunk(text, run_manager)

    def _keep_warm_part(self) -> None:
        """Cut the cache back to what it shares with the warm-up's prompt (the system message and the
        start of a user turn), so every prompt after it is evaluated in the same two parts: evaluated in
        other parts, the same prompt gets slightly other logits, enough to change a sampled token."""
        if self._warm_tokens is None:
            return
        cached, warm = self._llama.input_ids[: self._llama.n_tokens].tolist(), self._warm_tokens
        pairs = enumerate(zip(cached, warm, strict=False))
        self._llama.n_tokens = next((i for i, (a, b) in pairs if a != b), min(len(cached), len(warm)))

    def _completion(self, messages: list[BaseMessage], stop: list[str] | None, max_tokens: int) -> Iterator:
        """llama.cpp's streamed chat completion; a prompt longer than the context is a `ModelError`.
        Without a warm-up for its system message, one is made first (cold and warm answers are alike)."""
        self._warm(_system_of(messages))
        self._keep_warm_part()
        completion = self._llama.create_chat_completion(
            [{"role": _ROLES.get(m.type, "user"), "content": str(m.content)} for m in messages],
            max_tokens=max_tokens,
            temperature=self.temperature,
            seed=self.seed,
            stop=stop,
            stream=True,
        )
        try:
            first = next(completion, None)
        except ValueError as exc:  # raised before any token when the prompt exceeds n_ctx
            raise ModelError(
                f"the prompt does not fit the model's context ({exc}): raise llm.n_ctx "
                "or lower retrieval.k / chat.history_tokens"
            ) from None
        return itertools.chain([first], completion) if first else iter(())


def _system_of(messages: list[BaseMessage]) -> str | None:
    """The system message a prompt starts with, if any."""
    return str(messages[0].content) if messages and messages[0].type == "system" else None


def build_llamacpp(path: Path, settings: LLMSettings) -> LlamaCppChat:
    """Load a GGUF model for chat; raises `ModelError` with the reason when llama.cpp refuses it."""
    check_gguf(path)
    chat = LlamaCppChat(
        model_path=str(path),
        n_ctx=settings.n_ctx,
        max_tokens=settings.max_tokens,
        temperature=settings.temperature,
        seed=settings.seed,
    )
    try:
        return chat.load(settings.threads, batch=512)
    except (ValueError, RuntimeError, OSError) as exc:
        raise ModelError(f"llama.cpp could not load {path}: {exc}".splitlines()[0]) from None
