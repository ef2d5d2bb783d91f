import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from rag.errors import BackendUnavailableError, ModelError, UnknownBackendError
from rag.llms import build_llm, parse_spec
from rag.llms.fake import FakeChatModel, extractive_answer
from rag.llms.llamacpp import check_gguf
from rag.prompts import NOT_FOUND
from rag.settings import LLMSettings


@pytest.mark.parametrize(
    ("spec", "parsed"),
    [
        ("fake", ("fake", "")),
        ("llamacpp", ("llamacpp", "")),
        ("llamacpp:/m/x.gguf", ("llamacpp", "/m/x.gguf")),
        ("/m/model.GGUF", ("llamacpp", "/m/model.GGUF")),
        ("ollama:llama3.2:1b", ("ollama", "llama3.2:1b")),
    ],
)
def test_parse_spec(spec, parsed):
    assert parse_spec(spec) == parsed


@pytest.mark.parametrize("spec", ["gpt4", "openai:gpt-4o", "ollama", "ollama:"])
def test_unknown_specs_say_what_is_accepted(spec):
    with pytest.raises(UnknownBackendError, match="ollama"):
        parse_spec(spec)


def test_gguf_checks(tmp_path):
    with pytest.raises(ModelError, match="not found"):
        check_gguf(tmp_path / "missing.gguf")
    fake = tmp_path / "fake.gguf"
    fake.write_bytes(b"PK\x03\x04 this is a zip")
    with pytest.raises(ModelError, match="not a GGUF"):
        build_llm(f"llamacpp:{fake}", LLMSettings(), tmp_path)


def test_fake_model_is_extractive_and_deterministic():
    prompt = (
        '<source id="1">\nThe tank holds 1.8 litres. It is removable.\n</source>\n'
        '<source id="2">\nThe drip tray is dishwasher-safe on the top rack.\n</source>\n\n'
        "Question: Is the drip tray dishwasher-safe?"
    )
    assert extractive_answer(prompt) == "The drip tray is dishwasher-safe on the top rack. [2]"
    assert extractive_answer("Sources:\n\nQuestion: anything") == NOT_FOUND
    assert FakeChatModel().invoke(prompt).content == extractive_answer(prompt)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_ollama_unreachable_says_to_start_it():
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(BackendUnavailableError, match="ollama serve"):
        build_llm("ollama:llama3.2", LLMSettings(ollama_url=url), None)


class _Tags(BaseHTTPRequestHandler):
    """Ollama's GET /api/tags, as documented, with one pulled model."""

    def do_GET(self):  # noqa: N802 (http.server naming)
        body = json.dumps(
            {
                "models": [
                    {
                        "name": "qwen2.5:0.5b",
                        "model": "qwen2.5:0.5b",
                        "size": 1,
                        "digest": "d",
                        "modified_at": "2026-01-01T00:00:00Z",
                        "details": {},
                    }
                ]
            }
        )
        self.send_response(200 if self.path == "/api/tags" else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def ollama_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Tags)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_ollama_model_not_pulled_says_how_to_pull(ollama_url):
    with pytest.raises(ModelError, match="ollama pull llama3.2"):
        build_llm("ollama:llama3.2", LLMSettings(ollama_url=ollama_url), None)


def test_ollama_model_present_gives_a_chat_model_with_explicit_context(ollama_url):
    llm = build_llm("ollama:qwen2.5", LLMSettings(ollama_url=ollama_url, n_ctx=8192), None)
    assert llm.num_ctx == 8192 and llm.model == "qwen2.5"
