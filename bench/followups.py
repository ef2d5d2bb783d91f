"""Follow-up retrieval benchmark: `python bench/followups.py [--llm SPEC]` prints one JSON line.

Each line of `bench/followups.jsonl` is a two-turn conversation over `data/` whose second question only
makes sense with the first, and the passage that answers it (file, and page or heading). The first answer
in the history is the fake model's extractive answer (so only the rewrite uses the model under test).
For each follow-up it retrieves the top 3 for: the raw follow-up (what most tools search for), the
topic query (previous question + follow-up, no model), and the standalone question askdocs searches for
(the model's rewrite, or the topic query when the rewrite is unusable); it reports hit@1 and hit@3 of the
answering passage for each, and the rewrite time. Not part of the test suite (it is a measurement;
model speed varies on a shared machine).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
from rag.offline import apply_offline_environment  # noqa: E402

apply_offline_environment()

from ingest.sync import sync  # noqa: E402
from rag.chain import Budget, ask, build_chain  # noqa: E402
from rag.components import load_model, open_collection, open_manifest  # noqa: E402
from rag.condense import build_condenser, fallback_rewrite, plan_condense  # noqa: E402
from rag.history import history_messages  # noqa: E402
from rag.llms.fake import FakeChatModel  # noqa: E402
from rag.retrieve import retrieve  # noqa: E402
from rag.settings import Settings  # noqa: E402

HERE = Path(__file__).resolve().parent
K = 3


def answers(passages, case: dict) -> list[bool]:
    """Which of the passages is the one that answers the follow-up."""
    return [
        p.file == case["file"]
        and ("page" not in case or p.page == case["page"])
        and case.get("heading", "") in p.heading
        for p in passages
    ]


def run_case(case: dict, store, condenser, first_chain) -> dict:
    first = ask(first_chain, case["first"])
    history = history_messages([(case["first"], first.text)])
    plan = plan_condense(case["follow_up"], history)
    query = (
        condenser.invoke({"question": plan.text, "history": history, "plan": plan})
        if plan.condensed
        else plan
    )
    search = {
        "raw": retrieve(store, case["follow_up"], K),
        "topic": retrieve(store, fallback_rewrite(case["follow_up"], history), K),
        "askdocs": retrieve(store, query.text, K),
    }
    hits = {name: answers(found, case) for name, found in search.items()}
    return {"rewrite": query.text, "condensed": plan.condensed, "ms": query.ms, "hits": hits}


def main(llm: str) -> dict:
    settings = Settings()
    with tempfile.TemporaryDirectory() as tmp:
        settings = settings.with_store(Path(tmp))
        store = open_collection(settings)
        manifest = open_manifest(store)
        sync([HERE.parent / "data"], store, manifest, settings.chunking)
        manifest.close()
        condenser = build_condenser(load_model(settings, store, llm).chat)
        first_chain = build_chain(lambda q: retrieve(store, q, K), FakeChatModel(), Budget(4096, 256))
        cases = [json.loads(line) for line in (HERE / "followups.jsonl").read_text().splitlines() if line]
        results = [run_case(case, store, condenser, first_chain) for case in cases]
        store.close()
    summary = {"llm": llm, "conversations": len(results), "condensed": sum(r["condensed"] for r in results)}
    for name in ("raw", "topic", "askdocs"):
        summary[f"{name}_hit@1"] = round(sum(r["hits"][name][0] for r in results) / len(results), 3)
        summary[f"{name}_hit@3"] = round(sum(any(r["hits"][name]) for r in results) / len(results), 3)
    summary["rewrite_ms_median"] = statistics.median(r["ms"] for r in results)
    summary["rewrites"] = [r["rewrite"] for r in results]
    return summary


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--llm", default="llamacpp")
    print(json.dumps(main(parser.parse_args().llm)))
