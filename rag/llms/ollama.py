"""Ollama through `ChatOllama`, after checking the server is up and the model is pulled.

`num_ctx` is always set: Ollama's default (2048) silently truncates long prompts. This module does not
start or manage the Ollama server.
"""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel

from rag.errors import BackendUnavailableError, ModelError
from rag.settings import LLMSettings


def available_models(url: str) -> list[str]:
    """Names of the models the Ollama server at `url` has pulled."""
    import httpx
    import ollama

    try:
        listing = ollama.Client(host=url, timeout=10).list()
    except (ConnectionError, httpx.HTTPError) as exc:
        raise BackendUnavailableError(
            f"cannot reach Ollama at {url}: is `ollama serve` running there? ({exc})"
        ) from None
    return [m.model for m in listing.models if m.model]


def build_ollama(model: str, settings: LLMSettings) -> BaseChatModel:
    """A chat model served by Ollama; fails early with what to do when it can't work."""
    names = available_models(settings.ollama_url)
    if not any(name == model or name.startswith(f"{model}:") for name in names):
        pulled = ", ".join(names) or "none"
        raise ModelError(f"Ollama has no model '{model}': run `ollama pull {model}` (pulled: {pulled})")
    from langchain_ollama import ChatOllama

    return ChatOllama(
        model=model,
        base_url=settings.ollama_url,
        num_ctx=settings.n_ctx,
        num_predict=settings.max_tokens,
        temperature=settings.temperature,
    )
