"""Chat model backends, named by a spec string.

    fake                    the deterministic extractive model shipped for tests and offline demos
    llamacpp                the packaged default GGUF (assembled once into the store's models/ folder)
    llamacpp:PATH.gguf      any local GGUF file (a bare PATH.gguf works too)
    ollama:MODEL            a model served by Ollama at llm.ollama_url

One small module per backend; each imports its library only when used. This module only parses specs
and dispatches.
"""

from __future__ import annotations

from pathlib import Path

from langchain_core.language_models import BaseChatModel

from rag.errors import UnknownBackendError
from rag.settings import LLMSettings

BACKENDS = ("fake", "llamacpp", "ollama")


def parse_spec(spec: str) -> tuple[str, str]:
    """Split `provider:model` into its parts, validating the provider."""
    spec = spec.strip()
    if spec.lower().endswith(".gguf") and not spec.startswith(("llamacpp:", "ollama:")):
        return "llamacpp", spec
    provider, _, model = spec.partition(":")
    if provider not in BACKENDS:
        raise UnknownBackendError(
            f"unknown model backend '{spec}': use fake, llamacpp, llamacpp:PATH.gguf or ollama:MODEL"
        )
    if provider == "ollama" and not model:
        raise UnknownBackendError("ollama needs a model name: use ollama:MODEL, e.g. ollama:llama3.2")
    return provider, model


def build_llm(spec: str, settings: LLMSettings, models_dir: Path) -> BaseChatModel:
    """Build the chat model a spec names (loading weights where the backend has them)."""
    provider, model = parse_spec(spec)
    if provider == "fake":
        from rag.llms.fake import FakeChatModel

        return FakeChatModel()
    if provider == "ollama":
        from rag.llms.ollama import build_ollama

        return build_ollama(model, settings)
    from rag.llms.llamacpp import build_llamacpp
    from rag.llms.packaged import default_gguf

    path = Path(model).expanduser() if model else default_gguf(models_dir)
    return build_llamacpp(path, settings)
