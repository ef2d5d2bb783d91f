"""Chat model backends, named by a spec string.

    llamacpp                the packaged default GGUF (assembled once into the store's models/ folder)
    llamacpp:PATH.gguf      any local GGUF file (a bare PATH.gguf works too)
    ollama:MODEL            a model served by Ollama at llm.ollama_url
    extractive              no generator: the answer quotes the source sentence closest to the question
                            (`rag.chain`), with its citation; instant, and every word is the document's
    fake                    the deterministic extractive model shipped for tests and offline demos

One small module per backend; each imports its library only when used. Each loaded model comes with the
context window it really has (the configured one, capped by the model's own limit) and a token counter
(the model's tokenizer where it is local, a conservative estimate otherwise), so prompts are fitted, never
truncated by the backend. This module only parses specs and dispatches.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from langchain_core.language_models import BaseChatModel

from rag.errors import UnknownBackendError
from rag.prompts import TokenCounter, estimate_tokens
from rag.settings import LLMSettings


@dataclass(frozen=True)
class LoadedModel:
    """A chat model ready to answer, with its real context window and a way to count its tokens.
    `chat` is None for `extractive`: no generator, the chain quotes the closest source sentence."""

    chat: BaseChatModel | None
    n_ctx: int
    count_tokens: TokenCounter = estimate_tokens


BACKENDS = ("extractive", "fake", "llamacpp", "ollama")


def parse_spec(spec: str) -> tuple[str, str]:
    """Split `provider:model` into its parts, validating the provider."""
    spec = spec.strip()
    if spec.lower().endswith(".gguf") and not spec.startswith(("llamacpp:", "ollama:")):
        return "llamacpp", spec
    provider, _, model = spec.partition(":")
    if provider not in BACKENDS:
        raise UnknownBackendError(
            f"unknown model backend '{spec}': "
            "use llamacpp, llamacpp:PATH.gguf, ollama:MODEL, extractive or fake"
        )
    if provider == "ollama" and not model:
        raise UnknownBackendError("ollama needs a model name: use ollama:MODEL, e.g. ollama:llama3.2")
    return provider, model


def build_llm(spec: str, settings: LLMSettings, models_dir: Path) -> LoadedModel:
    """Build the chat model a spec names (loading weights where the backend has them)."""
    provider, model = parse_spec(spec)
    if provider == "extractive":
        return LoadedModel(None, settings.n_ctx)
    if provider == "fake":
        from rag.llms.fake import FakeChatModel

        return LoadedModel(FakeChatModel(), settings.n_ctx)
    if provider == "ollama":
        from rag.llms.ollama import build_ollama

        chat, n_ctx = build_ollama(model, settings)
        return LoadedModel(chat, n_ctx)
    from rag.llms.llamacpp import build_llamacpp
    from rag.packaged import DEFAULT_GGUF, assembled

    path = Path(model).expanduser() if model else assembled(DEFAULT_GGUF, models_dir)
    chat = build_llamacpp(path, settings)
    return LoadedModel(chat, chat.context_window, chat.count_tokens)
