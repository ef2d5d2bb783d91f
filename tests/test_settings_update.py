"""Writing settings back from the page: comments kept, values validated, nothing written on a bad value."""

from pathlib import Path

import pytest

from rag.errors import SettingsError
from rag.settings import load_settings, update_settings_file

ROOT = Path(__file__).resolve().parent.parent


def test_update_keeps_comments_and_validates(tmp_path: Path):
    path = tmp_path / "settings.yaml"
    path.write_text((ROOT / "settings.yaml").read_text())
    updated = update_settings_file(
        path, {"llm": {"spec": "ollama:llama3.2"}, "retrieval": {"k": 8}, "chat": {"history_tokens": 900}}
    )
    assert (updated.llm.spec, updated.retrieval.k, updated.chat.history_tokens) == ("ollama:llama3.2", 8, 900)
    text = path.read_text()
    assert "  k: 8                         # passages given to the model" in text
    assert "# askdocs settings." in text
    assert load_settings(path) == updated


def test_update_adds_missing_sections_and_keys(tmp_path: Path):
    path = tmp_path / "settings.yaml"
    path.write_text("store:\n  path: here\n")
    update_settings_file(path, {"retrieval": {"k": 3}, "store": {"collection": "mine"}})
    settings = load_settings(path)
    assert (settings.retrieval.k, settings.store.collection, settings.store.path) == (
        3,
        "mine",
        tmp_path / "here",
    )


def test_bad_value_is_refused_and_nothing_written(tmp_path: Path):
    path = tmp_path / "settings.yaml"
    path.write_text("retrieval:\n  k: 5\n")
    with pytest.raises(SettingsError, match="retrieval.k"):
        update_settings_file(path, {"retrieval": {"k": 0}})
    assert path.read_text() == "retrieval:\n  k: 5\n"


def test_ui_section_defaults_to_loopback():
    settings = load_settings(ROOT / "settings.yaml")
    assert (settings.ui.host, settings.ui.port, settings.ui.upload_max_mb) == ("127.0.0.1", 8501, 50)
