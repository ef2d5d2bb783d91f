import pytest
import torch

from rag.embeddings import LazyEmbeddings
from rag.settings import EmbeddingSettings


@pytest.mark.parametrize("query_threads", [1, 0])
def test_query_embedding_threads_leave_the_vector_and_torch_as_they_were(real_embeddings, query_threads):
    before = torch.get_num_threads()
    lazy = LazyEmbeddings(EmbeddingSettings(query_threads=query_threads))
    vector = lazy.embed_query("How often should I descale?")
    assert vector == pytest.approx(real_embeddings.embed_query("How often should I descale?"), abs=1e-5)
    assert len(vector) == 384 and torch.get_num_threads() == before
