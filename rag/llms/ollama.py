"""Ollama through `ChatOllama`, after checking the server is up, the model is pulled, and its context size.

`num_ctx` is always set, to `llm.n_ctx` capped by the model's own context length (from `/api/show`):
Ollama's default (2048) silently truncates long prompts. Errors while answering (server gone, model
failing) become askdocs errors that say what to do. An answer that starts repeating itself is ended there
(`rag.repeats`). This module does not start or manage the server; it
is imported only when an `ollama:` model is used.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import ollama
from langchain_core.messages import AIMessageChunk
from langchain_core.outputs import ChatGenerationChunk
from langchain_ollama import ChatOllama

from rag.errors import BackendUnavailableError, ModelError
from rag.repeats import stop_repeats
from rag.settings import LLMSettings


def _unreachable(url: str, exc: Exception) -> BackendUnavailableError:
    return BackendUnavailableError(f"cannot reach Ollama at {url}: is `ollama serve` running there? ({exc})")


@contextmanager
def ollama_errors(url: str, model: str) -> Iterator[None]:
    """Turn the Ollama client's connection and response errors into askdocs errors."""
    try:
        yield
    except ollama.ResponseError as exc:
        if exc.status_code == 404:
            raise ModelError(f"Ollama has no model '{model}': run `ollama pull {model}`") from None
        raise ModelError(
            f"Ollama failed with model '{model}' (HTTP {exc.status_code}): {exc.error}"
        ) from None
    except (ConnectionError, httpx.HTTPError) as exc:
        raise _unreachable(url, exc) from None


def available_models(url: str) -> list[str]:
    """Names of the models the Ollama server at `url` has pulled."""
    with ollama_errors(url, ""):
        listing = ollama.Client(host=url, timeout=10).list()
    return [m.model for m in listing.models if m.model]


def context_length(url: str, model: str) -> int | None:
    """The model's own context length, as `/api/show` reports it in `model_info`."""
    with ollama_errors(url, model):
        info = ollama.Client(host=url, timeout=10).show(model).modelinfo or {}
    lengths = [int(v) for k, v in info.items() if k.endswith(".context_length") and v]
    return min(lengths) if lengths else None


def is_pulled(model: str, names: list[str]) -> bool:
    """Whether `model` is among the pulled `names`; a name without a tag means its `:latest`."""
    return model in names or (":" not in model and f"{model}:latest" in names)


class CheckedChatOllama(ChatOllama):
    """`ChatOllama` whose run-time failures are askdocs errors."""

    def _generate(self, *args: Any, **kwargs: Any) -> Any:
        with ollama_errors(str(self.base_url), self.model):
            return super()._generate(*args, **kwargs)

    def _stream(self, *args: Any, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        """The streamed answer, ended where it starts looping: the request is closed, which stops Ollama."""
        with ollama_errors(str(self.base_url), self.model):
            chunks = super()._stream(*args, **kwargs)
            for text in stop_repeats(chunk.text for chunk in chunks):
                if text:
                    yield ChatGenerationChunk(message=AIMessageChunk(content=text))


def build_ollama(model: str, settings: LLMSettings) -> tuple[CheckedChatOllama, int]:
    """A chat model served by Ollama and the context it gets; fails early with what to do."""
    url = settings.ollama_url
    names = available_models(url)
    if not is_pulled(model, names):
        pulled = ", ".join(names) or "none"
        raise ModelError(f"Ollama has no model '{model}': run `ollama pull {model}` (pulled: {pulled})")
    n_ctx = min(settings.n_ctx, context_length(url, model) or settings.n_ctx)
    chat = CheckedChatOllama(
        model=model,
        base_url=url,
        num_ctx=n_ctx,
        num_predict=settings.max_tokens,
        temperature=settings.temperature,
        seed=settings.seed,
    )
    return chat, n_ctx
