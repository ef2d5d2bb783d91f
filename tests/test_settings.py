from pathlib import Path

import pytest

from rag.errors import SettingsError
from rag.settings import PACKAGED_EMBEDDING_MODEL, RetrievalSettings, load_settings

ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_project_settings_load_with_store_beside_the_file():
    settings = load_settings(ROOT / "settings.yaml")
    assert settings.store.path == ROOT / "vectorstore"
    assert settings.embeddings.model == PACKAGED_EMBEDDING_MODEL
    assert settings.retrieval.k == 5
    assert settings.retrieval == RetrievalSettings()  # the file states the defaults
    assert settings.llm.n_ctx >= 2048


def test_empty_file_gives_defaults_relative_to_it(tmp_path):
    settings = load_settings(write(tmp_path, ""))
    assert settings.store.path == tmp_path / "vectorstore"


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("retrieval:\n  kk: 3\n", "retrieval.kk"),
        ("retrieval:\n  k: -1\n", "retrieval.k"),
        ("retrieval:\n  k: many\n", "retrieval.k"),
        ("llm:\n  n_ctx: 10\n", "llm.n_ctx"),
        ("retrieval:\n  lexical_weight: -1\n", "retrieval.lexical_weight"),
        ("retrieval:\n  max_per_file: -2\n", "retrieval.max_per_file"),
        ("retrieval:\n  lexical: maybe\n", "retrieval.lexical"),
        ("storage:\n  path: x\n", "storage"),
        ("? ''\n: null\n", "unknown key ''"),  # found by `make fuzz`: was named '(top level)'
        ("false: null\n", "unknown key 'False'"),  # found by `make fuzz`: was "bad value for '0'"
        ("retrieval:\n  3: 1\n", "unknown key 'retrieval.3'"),
        ('"a\\x1eb": 1\n', r"unknown key 'a\\x1eb'"),  # found by `make fuzz`: a line break in the message
    ],
)
def test_bad_keys_and_values_are_named(tmp_path, text, named):
    with pytest.raises(SettingsError, match=named.replace(".", r"\.")):
        load_settings(write(tmp_path, text))


def test_unreadable_yaml_and_wrong_shape(tmp_path):
    with pytest.raises(SettingsError, match="not valid YAML"):
        load_settings(write(tmp_path, "store: [unclosed\n"))
    with pytest.raises(SettingsError, match="mapping"):
        load_settings(write(tmp_path, "- a\n- b\n"))
    with pytest.raises(SettingsError, match="not found"):
        load_settings(tmp_path / "missing.yaml")


@pytest.mark.parametrize(
    "text", ["[" * 5000, "a: 2001-13-41\n", "a: !!int 0x\n", "a: !!timestamp 1\n", "!!int", "a: !!int\n"]
)
def test_yaml_the_parser_chokes_on_is_a_settings_error(tmp_path, text):  # found by `make fuzz`
    with pytest.raises(SettingsError, match="not valid YAML") as raised:
        load_settings(write(tmp_path, text))  # was RecursionError, ValueError, AttributeError, IndexError
    assert len(str(raised.value).splitlines()) == 1


def test_embedding_model_paths_resolve_beside_the_file_and_sentences_have_their_own_model(tmp_path):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "e5.gguf").write_bytes(b"GGUF")
    text = "embeddings:\n  model: models/e5.gguf\n  backend: onnx-int8\n  query_prefix: 'query: '\n"
    embeddings = load_settings(write(tmp_path, text)).embeddings
    assert embeddings.model == str(tmp_path / "models" / "e5.gguf") and embeddings.is_gguf
    assert embeddings.identity == embeddings.model  # llama.cpp runs it: the backend does not apply
    sentences = embeddings.for_sentences
    assert (sentences.model, sentences.backend, sentences.query_prefix) == (
        PACKAGED_EMBEDDING_MODEL,
        "onnx-int8",
        None,
    )
    same = load_settings(write(tmp_path, "embeddings:\n  sentence_model: ''\n")).embeddings
    assert same.for_sentences is same and not same.is_gguf
    assert load_settings(
        write(tmp_path, "embeddings:\n  sentence_model: models\n")
    ).embeddings.sentence_model == str(tmp_path / "models")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0.35),  # all-MiniLM-L6-v2: the threshold measured for it
        ("embeddings:\n  model: nomic-embed-text-v1.5\n", 0.65),  # its cosines run higher
        (
            "embeddings:\n  model: /m/nomic-embed-text-v1.5.Q8_0.gguf\nretrieval:\n  k: 3\n",
            0.65,
        ),  # by file name
        ("embeddings:\n  model: nomic-embed-text-v1.5\nretrieval:\n  min_score: null\n", 0.65),
        ("embeddings:\n  model: nomic-embed-text-v1.5\nretrieval:\n  min_score: 0.4\n", 0.4),  # set: kept
        ("embeddings:\n  model: /m/e5-small.gguf\n", 0.35),  # not measured: the default
    ],
)
def test_min_score_left_unset_is_the_one_measured_for_the_embedding_model(tmp_path, text, expected):
    assert load_settings(write(tmp_path, text)).retrieval.min_score == expected


def test_a_bad_min_score_is_still_named(tmp_path):
    with pytest.raises(SettingsError, match=r"retrieval\.min_score"):
        load_settings(
            write(tmp_path, "embeddings:\n  model: nomic-embed-text-v1.5\nretrieval:\n  min_score: 2\n")
        )
    with pytest.raises(SettingsError, match="retrieval"):
        load_settings(write(tmp_path, "retrieval: many\n"))
