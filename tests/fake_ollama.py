"""A small Ollama server on 127.0.0.1 for tests, speaking Ollama's documented HTTP protocol.

GET /api/tags lists the pulled models; POST /api/show gives `model_info` with a context length; POST
/api/chat answers with NDJSON streaming (one JSON object per line, `done: false` tokens then a final
`done: true` object with the counters) or one object when `stream` is false. Unknown models get 404
with `{"error": ...}` as Ollama sends it. Every request body is recorded for the test to inspect.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CREATED_AT = "2026-11-24T00:00:00.000000000Z"


def default_reply(request: dict[str, Any]) -> str:
    """A rewrite for the condense prompt, otherwise an answer citing source 1."""
    last = request["messages"][-1]["content"]
    if last.rstrip().endswith("Rewritten question:"):
        return "How often should I descale the Nimbus K2?"
    return "Descale it every 8 weeks [1]."


@dataclass
class FakeOllama:
    """State shared with the handler: pulled models, their context length, replies, recorded requests."""

    models: dict[str, int] = field(default_factory=lambda: {"qwen2.5:0.5b": 32768})
    reply: Callable[[dict[str, Any]], str] = default_reply
    fail_chat_with: int | None = None  # an HTTP status for /api/chat, e.g. 500
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    url: str = ""
    server: ThreadingHTTPServer | None = None

    def chats(self) -> list[dict[str, Any]]:
        return [body for path, body in self.requests if path == "/api/chat"]

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def _tag(name: str) -> dict[str, Any]:
    details = {"format": "gguf", "family": "qwen2", "families": ["qwen2"], "parameter_size": "494M"}
    return {
        "name": name,
        "model": name,
        "modified_at": CREATED_AT,
        "size": 397821319,
        "digest": "a8b0c5157701",
        "details": {**details, "quantization_level": "Q4_K_M"},
    }


def _resolve(fake: FakeOllama, name: str) -> str | None:
    """The pulled model a request names; a name without a tag means `:latest`, as in Ollama."""
    name = name if ":" in name else f"{name}:latest"
    return name if name in fake.models else None


class _Handler(BaseHTTPRequestHandler):
    fake: FakeOllama
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, body: dict[str, Any], content_type: str = "application/json") -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        self.fake.requests.append((self.path, {}))
        if self.path == "/api/tags":
            return self._send(200, {"models": [_tag(name) for name in self.fake.models]})
        self._send(404, {"error": "404 page not found"})

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        self.fake.requests.append((self.path, body))
        model = _resolve(self.fake, body.get("model", ""))
        if self.path not in ("/api/show", "/api/chat"):
            return self._send(404, {"error": "404 page not found"})
        if model is None:
            return self._send(404, {"error": f"model '{body.get('model')}' not found"})
        if self.path == "/api/show":
            return self._send(200, self._show(model))
        if self.fake.fail_chat_with:
            return self._send(self.fake.fail_chat_with, {"error": "llama runner process has terminated"})
        self._chat(model, body)

    def _show(self, model: str) -> dict[str, Any]:
        return {
            "modelfile": f"FROM {model}",
            "parameters": "stop <|im_end|>",
            "template": "{{ .Prompt }}",
            "details": {"format": "gguf", "family": "qwen2", "parameter_size": "494M"},
            "model_info": {"general.architecture": "qwen2", "qwen2.context_length": self.fake.models[model]},
            "capabilities": ["completion"],
            "modified_at": CREATED_AT,
        }

    def _chat(self, model: str, body: dict[str, Any]) -> None:
        words = [w + " " for w in self.fake.reply(body).split(" ")]
        words[-1] = words[-1].rstrip()
        final = {
            "model": model,
            "created_at": CREATED_AT,
            "done": True,
            "done_reason": "stop",
            "total_duration": 1_000_000,
            "load_duration": 10_000,
            "prompt_eval_count": 42,
            "prompt_eval_duration": 500_000,
            "eval_count": len(words),
            "eval_duration": 400_000,
        }
        if not body.get("stream", True):
            message = {"role": "assistant", "content": "".join(words)}
            return self._send(200, {**final, "message": message})
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for word in words:
            self._line(
                {
                    "model": model,
                    "created_at": CREATED_AT,
                    "message": {"role": "assistant", "content": word},
                    "done": False,
                }
            )
        self._line({**final, "message": {"role": "assistant", "content": ""}})
        self.wfile.write(b"0\r\n\r\n")

    def _line(self, obj: dict[str, Any]) -> None:
        data = json.dumps(obj).encode() + b"\n"
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()


def start_fake_ollama(fake: FakeOllama) -> FakeOllama:
    """Serve `fake` on a free loopback port in a daemon thread; `fake.url` is set, `fake.stop()` ends it."""
    handler = type("Handler", (_Handler,), {"fake": fake})
    fake.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=fake.server.serve_forever, daemon=True).start()
    fake.url = f"http://127.0.0.1:{fake.server.server_address[1]}"
    return fake
