"""GGUF embedding models on llama.cpp: the packaged nomic-embed-text-v1.5 and the errors around a file."""

import numpy as np
import pytest

from rag.errors import ModelError
from rag.gguf_embeddings import GgufEmbeddings, known_prefixes
from rag.onnx_embeddings import installed_exports_dir
from rag.packaged import NOMIC_EMBED


def test_the_packaged_model_is_the_installed_one_with_nomic_task_prefixes(nomic_embeddings):
    path = installed_exports_dir() / NOMIC_EMBED.name  # assembled by `make install`
    assert path.is_file()
    assert known_prefixes(path) == ("search_query: ", "search_document: ")
    assert isinstance(nomic_embeddings, GgufEmbeddings)


def test_a_question_lands_nearest_the_passage_that_answers_it(nomic_embeddings):
    question = np.array(nomic_embeddings.embed_query("How long is the warranty on the pump?"))
    passages = np.array(
        nomic_embeddings.embed_documents(
            ["Bananas ripen faster in a paper bag.", "The pump is covered by a two-year warranty."]
        )
    )
    assert question.shape == (768,) and np.linalg.norm(question) == pytest.approx(1.0, abs=1e-5)
    assert np.linalg.norm(passages, axis=1) == pytest.approx([1.0, 1.0], abs=1e-5)
    similarity = passages @ question
    assert similarity[1] > similarity[0] + 0.2


def test_questions_and_passages_get_their_own_prefix(nomic_embeddings):
    text = "How long is the warranty?"
    as_question = np.array(nomic_embeddings.embed_query(text))
    as_passage = np.array(nomic_embeddings.embed_documents([text])[0])
    assert 0.5 < float(as_question @ as_passage) < 0.999  # the same words, embedded for two tasks


def test_a_text_longer_than_the_window_is_cut_not_refused(nomic_embeddings):
    long = "The pump is covered by a two-year warranty. " * 400  # ~4,000 tokens
    vector = nomic_embeddings.embed_documents([long])[0]
    assert len(vector) == 768 and np.isfinite(vector).all()


def test_a_missing_or_broken_file_is_a_model_error(tmp_path):
    with pytest.raises(ModelError, match="does not exist: set embeddings.model to a .gguf file"):
        GgufEmbeddings(tmp_path / "none.gguf", 1, ("", ""))
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\0" * 64)
    with pytest.raises(ModelError, match="cannot load embedding model"):
        GgufEmbeddings(broken, 1, ("", ""))
