"""Embedding backends compared: `python bench/embed_backends.py DATASET_DIR` prints one JSON line.

Chunks DATASET_DIR/docs with the project's own loaders and splitter (a fresh temporary store, as
`bench/ingest.py` does), then embeds the same chunk texts with each backend (`torch`, `onnx` (fp32, the
default), `onnx-int8`; same batch size, same process, one after the other) and times it. Quality: every
question of qa.jsonl is embedded by the same backend and the chunks ranked by cosine (dense only, in
memory); a question is hit when a gold file is among the top files, scored like `askdocs eval` (hit@1,
hit@5, MRR). Exports are made in a temporary folder unless the installation holds one (`make install`
exports the packaged model for `onnx`); `build_s` (loading, plus any export) is not part of `embed_s`.
`speedup_*` and `hit@5_delta_*` compare each ONNX backend with torch. Not part of the test suite (timings on
a shared machine).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

# This folder holds a file named like the `ingest` package; keep it off the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
from rag.offline import apply_offline_environment  # noqa: E402

apply_offline_environment()

import numpy as np  # noqa: E402
from langchain_core.embeddings import Embeddings  # noqa: E402
from langchain_core.embeddings.fake import DeterministicFakeEmbedding  # noqa: E402

from ingest.split import embedding_text  # noqa: E402
from ingest.sync import sync  # noqa: E402
from rag.components import open_collection, open_manifest  # noqa: E402
from rag.embeddings import build_embeddings  # noqa: E402
from rag.evaluate import Question, load_questions, mean, relative_name  # noqa: E402
from rag.settings import EmbeddingSettings, Settings  # noqa: E402

K = 5
BACKENDS = ("torch", "onnx", "onnx-int8")


def main(dataset: Path) -> dict:
    settings = Settings()
    texts, paths = _chunks(dataset, settings)
    questions = load_questions(dataset)
    result: dict = {"dataset": dataset.name, "chunks": len(texts), "questions": len(questions)}
    with tempfile.TemporaryDirectory() as exports:
        for backend in BACKENDS:
            chosen = settings.embeddings.model_copy(update={"backend": backend})
            result[backend] = _measure(chosen, Path(exports), texts, paths, questions, dataset / "docs")
    result["batch_size"] = settings.embeddings.batch_size
    for backend in BACKENDS[1:]:
        result[f"speedup_{backend}"] = round(result["torch"]["embed_s"] / result[backend]["embed_s"], 2)
        result[f"hit@5_delta_{backend}"] = round(result[backend][f"hit@{K}"] - result["torch"][f"hit@{K}"], 3)
    return result


def _chunks(dataset: Path, settings: Settings) -> tuple[list[str], list[str]]:
    """The embedding texts of the dataset's chunks and each chunk's file, as ingestion makes them (the
    vectors of this throwaway store are fakes: only the chunking matters here)."""
    with tempfile.TemporaryDirectory() as tmp:
        store = open_collection(settings.with_store(Path(tmp)), DeterministicFakeEmbedding(size=8))
        manifest = open_manifest(store)
        sync([dataset / "docs"], store, manifest, settings.chunking)
        rows = store._collection.get(include=["documents", "metadatas"])
        manifest.close()
        store.close()
    prefix = settings.chunking.context_prefix
    texts = [
        embedding_text(Path(meta["path"]), meta.get("heading", ""), text, prefix)
        for text, meta in zip(rows["documents"], rows["metadatas"], strict=True)
    ]
    return texts, [meta["path"] for meta in rows["metadatas"]]


def _measure(
    settings: EmbeddingSettings,
    exports: Path,
    texts: list[str],
    paths: list[str],
    questions: list[Question],
    docs: Path,
) -> dict:
    start = time.perf_counter()
    model = build_embeddings(settings, exports)
    model.embed_documents(["warm-up"])
    built = time.perf_counter() - start
    start = time.perf_counter()
    vectors = np.array(model.embed_documents(texts), dtype=np.float32)
    embed_s = time.perf_counter() - start
    quality = _quality(model, vectors, paths, questions, docs)
    return {"build_s": round(built, 1), "embed_s": round(embed_s, 1), **quality}


def _quality(
    model: Embeddings, vectors: np.ndarray, paths: list[str], questions: list[Question], docs: Path
) -> dict:
    """hit@1, hit@K and MRR of gold files among the files of the K chunks closest to each question."""
    scores = []
    for question in questions:
        query = np.array(model.embed_query(question.text), dtype=np.float32)
        top = np.argsort(-(vectors @ query))[:K]
        files = [relative_name(Path(paths[i]), docs) for i in top]
        first = next((i for i, name in enumerate(files) if name in question.gold_files), None)
        scores.append(0.0 if first is None else 1.0 / (first + 1))
    return {
        "hit@1": mean(float(s == 1.0) for s in scores),
        f"hit@{K}": mean(float(s > 0) for s in scores),
        "mrr": mean(scores),
    }


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]))))
