import os
import socket
from pathlib import Path

import numpy as np
import pytest
import torch

import rag.embeddings as embeddings_module
from rag.components import embedding_exports_dir, open_collection
from rag.embeddings import ONNX_INT8_FILE, LazyEmbeddings, build_embeddings
from rag.errors import EmbeddingMismatchError
from rag.settings import EmbeddingSettings


@pytest.mark.parametrize("query_threads", [1, 0])
def test_query_embedding_threads_leave_the_vector_and_torch_as_they_were(real_embeddings, query_threads):
    before = torch.get_num_threads()
    lazy = LazyEmbeddings(EmbeddingSettings(query_threads=query_threads))
    vector = lazy.embed_query("How often should I descale?")
    assert vector == pytest.approx(real_embeddings.embed_query("How often should I descale?"), abs=1e-5)
    assert len(vector) == 384 and torch.get_num_threads() == before


# ---- the onnx-int8 backend

SENTENCES = [
    "Descale the espresso machine every three months, or monthly in hard-water areas.",
    "The warranty covers manufacturing defects for two years from the date of purchase.",
    "New employees receive their laptop and badge on the first morning.",
    "Version 2.1 fixes a crash when the water tank is removed during brewing.",
    "Spare gaskets and filters can be ordered with the part numbers in the table.",
]
QUERIES = {
    "How often should I descale?": 0,
    "What does the warranty cover?": 1,
    "What do I get on my first day at work?": 2,
    "Which release fixed the crash with the tank?": 3,
    "Where do I find the part number of a gasket?": 4,
}


@pytest.fixture(scope="module")
def export_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("exports")


@pytest.fixture(scope="module")
def int8(export_root):
    """The int8 backend, exported from the packaged model with every network connection refused."""
    assert os.environ["HF_HUB_OFFLINE"] == "1"

    def refuse(*args, **kwargs):
        raise OSError("network blocked in this test")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", refuse)
        patch.setattr(socket, "create_connection", refuse)
        return build_embeddings(EmbeddingSettings(backend="onnx-int8"), export_root)


def test_int8_export_is_written_once_then_reused(int8, export_root, monkeypatch):
    onnx_file = export_root / "all-MiniLM-L6-v2-onnx-int8" / ONNX_INT8_FILE
    written = onnx_file.stat().st_mtime_ns
    exports = []
    monkeypatch.setattr(embeddings_module, "_export_fp32", lambda *args: exports.append(args))
    again = build_embeddings(EmbeddingSettings(backend="onnx-int8", query_threads=0), export_root)
    assert exports == [] and onnx_file.stat().st_mtime_ns == written
    assert sorted(p.name for p in export_root.iterdir()) == ["all-MiniLM-L6-v2-onnx-int8"]  # no scratch left
    assert again.embed_query(SENTENCES[0]) == pytest.approx(int8.embed_query(SENTENCES[0]), abs=1e-5)


def test_int8_vectors_are_close_to_torch_and_rank_the_same(int8, real_embeddings):
    documents = np.array(int8.embed_documents(SENTENCES))
    reference = np.array(real_embeddings.embed_documents(SENTENCES))
    assert documents.shape == (5, 384)
    assert np.linalg.norm(documents, axis=1) == pytest.approx(1.0, abs=1e-5)
    assert min((documents * reference).sum(axis=1)) > 0.95
    for query, expected in QUERIES.items():
        vector = np.array(int8.embed_query(query))
        assert float(vector @ np.array(real_embeddings.embed_query(query))) > 0.95
        assert int(np.argmax(documents @ vector)) == expected == int(np.argmax(reference @ vector))


def test_a_store_built_with_torch_refuses_the_int8_backend(settings, embeddings):
    open_collection(settings, embeddings).close()
    int8_settings = EmbeddingSettings(backend="onnx-int8")
    other = settings.model_copy(update={"embeddings": int8_settings})
    assert int8_settings.identity == "all-MiniLM-L6-v2+onnx-int8"
    with pytest.raises(EmbeddingMismatchError) as refused:
        open_collection(other)
    assert "'all-MiniLM-L6-v2', but settings say 'all-MiniLM-L6-v2+onnx-int8'" in str(refused.value)
    assert "set embeddings.backend back" in str(refused.value)
    assert not embedding_exports_dir(other).exists()  # refused before anything was exported
