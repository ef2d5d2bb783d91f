import os
import shutil
import socket
from pathlib import Path

import numpy as np
import pytest

import rag.onnx_embeddings as onnx_module
from rag.embeddings import build_embeddings, packaged_model_dir
from rag.onnx_embeddings import ONNX_FP32_FILE, ONNX_INT8_FILE, encode_batch, fast_tokenizer
from rag.settings import EmbeddingSettings

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
LONG = "The warranty covers manufacturing defects for two years from the date of purchase. " * 40


# ---- the onnx backend (fp32, the default)


def test_onnx_vectors_are_torch_vectors_to_within_rounding(real_embeddings, torch_embeddings):
    texts = [*SENTENCES, LONG, "ÉTÉ 2024: 1,234 cups", "x"]
    documents = np.array(real_embeddings.embed_documents(texts))
    reference = np.array(torch_embeddings.embed_documents(texts))
    assert documents.shape == (8, 384)
    assert np.abs(documents - reference).max() < 1e-5  # the long text is truncated the same way
    for query in QUERIES:
        vector = real_embeddings.embed_query(query)
        assert vector == pytest.approx(torch_embeddings.embed_query(query), abs=1e-5)


def test_the_run_time_tokenizer_gives_transformers_inputs():
    from transformers import AutoTokenizer

    folder = packaged_model_dir()
    texts = ["", "a", "Numbers 1,234 and ÉTÉ café", LONG, *SENTENCES]
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    reference = tokenizer(texts, padding=True, truncation=True, max_length=256)
    names = ["input_ids", "token_type_ids", "attention_mask"]
    encoded = encode_batch(fast_tokenizer(folder), texts, names)
    assert encoded["input_ids"].shape == (len(texts), 256)  # the longest, cut at the model's limit
    for name in names:
        assert encoded[name].tolist() == reference[name]


def test_without_an_installed_export_the_store_gets_its_own_once(tmp_path, monkeypatch, real_embeddings):
    monkeypatch.setattr(onnx_module, "installed_exports_dir", lambda: tmp_path / "none")
    export_root = tmp_path / "exports"
    first = build_embeddings(EmbeddingSettings(), export_root)
    onnx_file = export_root / "all-MiniLM-L6-v2-onnx" / ONNX_FP32_FILE
    assert first._onnx_file == onnx_file and not (tmp_path / "none").exists()
    written = onnx_file.stat().st_mtime_ns
    again = build_embeddings(EmbeddingSettings(), export_root)
    assert again._onnx_file == onnx_file and onnx_file.stat().st_mtime_ns == written
    expected = real_embeddings.embed_query(SENTENCES[1])
    assert again.embed_query(SENTENCES[1]) == pytest.approx(expected, abs=1e-5)


# ---- the onnx-int8 backend


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
    monkeypatch.setattr(onnx_module, "_export_fp32", lambda *args, **kwargs: exports.append(args))
    again = build_embeddings(EmbeddingSettings(backend="onnx-int8", query_threads=0), export_root)
    assert exports == [] and onnx_file.stat().st_mtime_ns == written
    assert sorted(p.name for p in export_root.iterdir()) == ["all-MiniLM-L6-v2-onnx-int8"]  # no scratch left
    assert again.embed_query(SENTENCES[0]) == pytest.approx(int8.embed_query(SENTENCES[0]), abs=1e-5)


def test_int8_vectors_are_close_to_torch_and_rank_the_same(int8, torch_embeddings):
    documents = np.array(int8.embed_documents(SENTENCES))
    reference = np.array(torch_embeddings.embed_documents(SENTENCES))
    assert documents.shape == (5, 384)
    assert np.linalg.norm(documents, axis=1) == pytest.approx(1.0, abs=1e-5)
    assert min((documents * reference).sum(axis=1)) > 0.95
    for query, expected in QUERIES.items():
        vector = np.array(int8.embed_query(query))
        assert float(vector @ np.array(torch_embeddings.embed_query(query))) > 0.95
        assert int(np.argmax(documents @ vector)) == expected == int(np.argmax(reference @ vector))


def test_a_model_without_tokenizer_json_is_refused_before_any_export(tmp_path):
    from rag.errors import ModelError

    folder = tmp_path / "model"
    shutil.copytree(packaged_model_dir(), folder)
    (folder / "tokenizer.json").unlink()
    with pytest.raises(ModelError, match="lacks: use embeddings.backend: torch"):
        build_embeddings(EmbeddingSettings(model=str(folder)), tmp_path / "exports")
    assert not (tmp_path / "exports").exists()
