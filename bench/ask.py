"""Answer-speed benchmark: `python bench/ask.py [STORE]` prints one JSON line.

Loads the default llama.cpp model (the packaged GGUF) with the settings' n_ctx and threads, builds an
answer prompt with about 1,000 tokens of sources retrieved from STORE (default: a fresh store of data/),
and streams the answer twice: time to first token, generation speed (tokens per second after the first),
and prompt evaluation speed. The second run shows llama.cpp reusing the cached prompt prefix (the fixed
system message). Then `ask` as a user runs it (k=4), two questions from a fresh context (`ask_k4`),
and again after the model has evaluated the system message (`ask_k4_warmed_up`: what `askdocs chat`
does while the first question is typed; a fresh `askdocs ask` does it while it loads the embedding
model). Not part of the test suite (timings on a shared machine).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
from rag.offline import apply_offline_environment  # noqa: E402

apply_offline_environment()

from ingest.sync import sync  # noqa: E402
from rag.chain import DoneEvent, stream_answer  # noqa: E402
from rag.components import answer_chain, load_model, open_collection, open_manifest  # noqa: E402
from rag.prompts import ANSWER_PROMPT, PROMPTS, fit_sources, format_sources, system_message  # noqa: E402
from rag.retrieve import retrieve  # noqa: E402
from rag.settings import Settings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "What does the warranty cover, and how do I make a claim?"
SOURCE_TOKENS = 1000
# `ask` as a user runs it (k=4): a first question in a fresh process, then a different one in the same
# process (llama.cpp reuses the evaluated system-message prefix).
ASK_K = 4
ASK_QUESTIONS = ["How long is the warranty?", "How often should I descale the machine?"]


def timed_answer(chat, messages, count_tokens) -> dict:
    start = time.perf_counter()
    first, pieces = None, []
    for chunk in chat.stream(messages):
        first = first or time.perf_counter()
        pieces.append(str(chunk.content))
    end = time.perf_counter()
    generated = count_tokens("".join(pieces))
    return {
        "ttft_s": round(first - start, 2),
        "total_s": round(end - start, 2),
        "answer_tokens": generated,
        "gen_tok_per_s": round((generated - 1) / max(end - first, 1e-6), 1),
    }


def main(store_dir: Path | None) -> dict:
    settings = Settings()
    with tempfile.TemporaryDirectory() as tmp:
        settings = settings.with_store(store_dir or Path(tmp))
        store = open_collection(settings)
        if store_dir is None:
            manifest = open_manifest(store)
            sync([ROOT / "data"], store, manifest, settings.chunking)
            manifest.close()
        model = load_model(settings, store, warm_up=False)
        sources = fit_sources(retrieve(store, QUESTION, 12), SOURCE_TOKENS, model.count_tokens)
        messages = ANSWER_PROMPT.format_messages(sources=format_sources(sources), question=QUESTION)
        prompt_tokens = sum(model.count_tokens(str(m.content)) for m in messages)
        runs = [timed_answer(model.chat, messages, model.count_tokens) for _ in range(2)]
        asks = {
            f"ask_k4{'_warmed_up' if warm_up else ''}": timed_asks(settings, store, model, warm_up)
            for warm_up in (False, True)
        }
        store.close()
    source_tokens = model.count_tokens(format_sources(sources))
    return {
        "model": "llamacpp (packaged default)",
        "n_ctx": model.n_ctx,
        "threads": settings.llm.threads,
        "sources": len(sources),
        "source_tokens": source_tokens,
        "prompt_tokens": prompt_tokens,
        "prompt_eval_tok_per_s": round(prompt_tokens / runs[0]["ttft_s"], 1),
        "first_run": runs[0],
        "second_run_cached_prefix": runs[1],
        **asks,
    }


def timed_asks(settings: Settings, store, model, warm_up: bool) -> list[dict]:
    """The ask questions from a fresh context, the chain built as `askdocs ask` builds it; with `warm_up`,
    after the model has evaluated the system message (as `chat` does while the first question is typed)."""
    model.chat.load(settings.llm.threads, batch=512)  # a fresh context: nothing cached
    if warm_up:
        model.chat.warm_up(system_message(PROMPTS[settings.answers.prompt])).join()
    chain = answer_chain(settings, store, model, k=ASK_K)
    return [timed_ask(chain, question, model) for question in ASK_QUESTIONS]


def timed_ask(chain, question: str, model) -> dict:
    """The whole chain as `askdocs ask` runs it, with the prompt's size."""
    done = next(e for e in stream_answer(chain, question) if isinstance(e, DoneEvent)).answer
    sources = done.sources
    return {
        "question": question,
        "sources": len(sources),
        "source_tokens": model.count_tokens(format_sources(sources)),
        "first_token_s": round(done.timings["first_token_ms"] / 1000, 2),
        "total_s": round(done.timings["total_ms"] / 1000, 2),
    }


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]) if len(sys.argv) > 1 else None)))
