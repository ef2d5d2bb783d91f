import subprocess
import sys
from pathlib import Path

import pytest
import torch

from rag.components import embedding_exports_dir, open_collection
from rag.embeddings import LazyEmbeddings, export_installed
from rag.errors import EmbeddingMismatchError
from rag.onnx_embeddings import ONNX_FP32_FILE, OnnxEmbeddings, installed_exports_dir
from rag.settings import EmbeddingSettings


@pytest.mark.parametrize("query_threads", [1, 0])
def test_query_embedding_threads_leave_the_vector_and_torch_as_they_were(torch_embeddings, query_threads):
    before = torch.get_num_threads()
    lazy = LazyEmbeddings(EmbeddingSettings(backend="torch", query_threads=query_threads))
    vector = lazy.embed_query("How often should I descale?")
    assert vector == pytest.approx(torch_embeddings.embed_query("How often should I descale?"), abs=1e-5)
    assert len(vector) == 384 and torch.get_num_threads() == before


def test_the_default_backend_runs_the_installed_export(real_embeddings):
    assert EmbeddingSettings().backend == "onnx"
    assert isinstance(real_embeddings, OnnxEmbeddings)
    installed = installed_exports_dir() / "all-MiniLM-L6-v2-onnx" / ONNX_FP32_FILE
    assert installed.is_file()  # made by `make install` (python -m rag.embeddings)
    assert export_installed() == installed  # already there: nothing is exported again
    assert real_embeddings._onnx_file == installed


def test_a_question_is_embedded_without_importing_torch_or_transformers(tmp_path):
    script = (
        "import sys\n"
        "from rag.embeddings import LazyEmbeddings\n"
        "from rag.settings import EmbeddingSettings\n"
        f"vector = LazyEmbeddings(EmbeddingSettings(), {str(tmp_path)!r}).embed_query('How often?')\n"
        "print(len(vector), sorted({'torch', 'transformers', 'sentence_transformers'} & set(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["384", "[]"]
    assert not any(tmp_path.iterdir())  # the installed export served: nothing exported beside the store


def test_a_collection_built_with_torch_is_searched_alike_with_onnx(settings, torch_embeddings, docs):
    from ingest.sync import sync
    from rag.components import open_manifest

    question = "How often should I descale the machine?"
    built_with_torch = settings.model_copy(update={"embeddings": EmbeddingSettings(backend="torch")})
    store = open_collection(built_with_torch, torch_embeddings)
    manifest = open_manifest(store)
    sync([docs], store, manifest, settings.chunking)
    manifest.close()
    by_torch = store.search(question, k=5)
    store.close()
    assert EmbeddingSettings(backend="onnx").identity == EmbeddingSettings(backend="torch").identity
    store = open_collection(settings)  # the default onnx backend: same vectors, so no mismatch
    by_onnx = store.search(question, k=5)
    store.close()
    assert [d.id for d, _ in by_onnx] == [d.id for d, _ in by_torch]
    assert [score for _, score in by_onnx] == pytest.approx([score for _, score in by_torch], abs=1e-5)


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


def test_a_gguf_collection_searches_with_it_and_compares_sentences_with_the_sentence_model(
    settings, docs, real_embeddings
):
    from ingest.sync import sync
    from rag.components import open_manifest
    from rag.retrieve import retrieve
    from rag.settings import PACKAGED_GGUF_EMBEDDING_MODEL, RetrievalSettings

    nomic = settings.model_copy(update={"embeddings": EmbeddingSettings(model=PACKAGED_GGUF_EMBEDDING_MODEL)})
    store = open_collection(nomic)
    manifest = open_manifest(store)
    sync([docs], store, manifest, nomic.chunking)
    manifest.close()
    assert store.embedding_model == "nomic-embed-text-v1.5"
    dense = RetrievalSettings(lexical=False, rerank=False, file_weight=0)
    found = retrieve(store, "How often should I descale if my water is hard?", k=3, options=dense)
    assert found[0].file == "maintenance.docx"
    assert len(store.embeddings.embed_query("descale")) == 768
    sentence = "Descale every four weeks."  # compared with all-MiniLM-L6-v2, as the answers.* thresholds were
    assert store.sentence_embed([sentence])[0] == pytest.approx(
        real_embeddings.embed_documents([sentence])[0]
    )
    assert not embedding_exports_dir(nomic).exists()  # the installed model served
    store.close()
    with pytest.raises(EmbeddingMismatchError, match="'nomic-embed-text-v1.5', but settings say 'all-MiniLM"):
        open_collection(settings.with_store(nomic.store.path))


def test_the_packaged_gguf_is_assembled_beside_the_store_when_the_installation_lacks_it(
    tmp_path, monkeypatch
):
    import rag.embeddings
    from rag.embeddings import gguf_file
    from rag.errors import ModelError
    from rag.packaged import NOMIC_EMBED

    monkeypatch.setattr(rag.embeddings, "installed_exports_dir", lambda: tmp_path / "installation")
    path = gguf_file("nomic-embed-text-v1.5", tmp_path / "models")
    assert path == tmp_path / "models" / NOMIC_EMBED.name and path.stat().st_size == 274_290_560
    with pytest.raises(
        ModelError, match="nomic-embed-text-v1.5 needs a folder to be assembled in: run `make install`"
    ):
        gguf_file("nomic-embed-text-v1.5", None)
    assert gguf_file("~/models/e5.gguf", None) == Path("~/models/e5.gguf").expanduser()
