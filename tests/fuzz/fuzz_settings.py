"""Fuzz `rag.settings.load_settings` with random YAML text and random documents over the real keys.

Contract checked: it returns `Settings`, or raises `SettingsError` with a one-line message; when the
message is about a key ("bad value for 'k'", "unknown key 'k'"), that key's section is one the document
has. Any other exception is a finding. Not checked: `update_settings_file` (the page's writer).
"""

from __future__ import annotations

import re

import yaml
from hypothesis import strategies as st

from rag.errors import SettingsError
from rag.settings import Settings, load_settings
from tests.fuzz.harness import one_line, run_round, scratch, time_limit

SECTIONS = {name: list(field.annotation.model_fields) for name, field in Settings.model_fields.items()}
YAML_TOKENS = (
    "store:", "retrieval:", "  k: ", "  path: ", "- ", "? ", ": ", "{", "}", "[", "]", ",", "&a ", "*a",
    "<<: *a", "!!binary ", "!!int ", "!!float ", "!!timestamp ", "!!python/object:os.system ", "|", ">",
    "\t", "\n", "#", "'", '"', "~", ".inf", ".nan", "0x", "0o7", "1_000", "2001-13-41", "12:30:99",
    "\ufeff", "\x00", "\x85", "\u2028", "%YAML 1.1\n", "---\n", "...\n",
)  # fmt: skip

# --- random documents over the real section and key names ------------------------------------------------

_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=300),
    st.sampled_from(["", " ", "http://h:1", "https://[::1]:8000", "http://a@b:1", "rrf", "auto", "x" * 5000]),
)
_value = st.recursive(
    _scalar,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
)
_key = st.one_of(st.text(max_size=20), st.integers(), st.booleans(), st.none())


@st.composite
def _section(draw: st.DrawFn, name: str) -> object:
    if draw(st.integers(0, 9)) == 0:
        return draw(_value)  # not a mapping
    keys = st.one_of(st.sampled_from(SECTIONS[name]), _key)
    return draw(st.dictionaries(keys, _value, max_size=6))


@st.composite
def settings_document(draw: st.DrawFn) -> bytes:
    names = draw(st.lists(st.one_of(st.sampled_from(sorted(SECTIONS)), _key), unique=True, max_size=8))
    document = {name: draw(_section(name) if name in SECTIONS else _value) for name in names}
    return yaml.safe_dump(document, allow_unicode=draw(st.booleans())).encode("utf-8", "surrogatepass")


# --- random YAML-ish text --------------------------------------------------------------------------------

_repeated = st.builds(
    lambda s, n: s * n, st.sampled_from(["[", "{", "- ", "a: ", "  ", "&a [*a, "]), st.integers(1, 3000)
)
_yaml_text = st.lists(st.one_of(st.sampled_from(YAML_TOKENS), st.text(max_size=20), _repeated), max_size=60)
yaml_text = st.builds(lambda parts: "".join(parts).encode("utf-8", "surrogatepass"), _yaml_text)


def check_settings(data: bytes) -> None:
    """Write `data` as settings.yaml, load it, and assert the contract."""
    path = scratch("settings.yaml")
    path.write_bytes(data)
    try:
        with time_limit(path):
            settings = load_settings(path)
    except SettingsError as exc:
        message = str(exc)
        assert one_line(message), f"SettingsError message is not one non-empty line: {message!r}"
        _assert_names_a_key_of(data, message)
        return
    assert isinstance(settings, Settings)


def _shown(name: str) -> str:
    """A key as the message shows it: escaped when it holds a control character."""
    return name if name.isprintable() else repr(name)[1:-1]


def _assert_names_a_key_of(data: bytes, message: str) -> None:
    """A message about a key names one under a section the document really has."""
    match = re.search(r"(?:bad value for '(.*?)':|unknown key '(.*?)' \(check)", message)
    if match:
        sections = [_shown(str(name)) for name in yaml.safe_load(data.decode("utf-8"))]
        key = match.group(1) if match.group(1) is not None else match.group(2)
        assert any(key == name or key.startswith(name + ".") for name in sections), message


def fuzz_round(max_examples: int) -> None:
    run_round(
        st.one_of(settings_document(), yaml_text, st.binary(max_size=2000)), check_settings, max_examples
    )
