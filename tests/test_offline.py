"""Nothing leaves the machine: ingest, retrieve and ask run with every non-loopback connection refused
(and recorded). The guard wraps the real console-script entry point in a subprocess."""

import json
import subprocess
import sys
from pathlib import Path

GUARD = """
import socket, sys
LOG = sys.argv.pop(1)

def _record(what):
    with open(LOG, "a") as handle:
        handle.write(what + "\\n")

def _local(host):
    return host.startswith("127.") or host in ("::1", "localhost", "")

_connect = socket.socket.connect
def connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _local(str(address[0])):
        _record(f"connect {address[0]}")
        raise OSError("network blocked by askdocs test")
    return _connect(self, address)
socket.socket.connect = connect
socket.socket.connect_ex = lambda self, address: connect(self, address) or 0

_getaddrinfo = socket.getaddrinfo
def getaddrinfo(host, *args, **kwargs):
    if host is not None and not _local(str(host)):
        _record(f"resolve {host}")
        raise socket.gaierror("network blocked by askdocs test")
    return _getaddrinfo(host, *args, **kwargs)
socket.getaddrinfo = getaddrinfo

from rag.cli import main
sys.argv[0] = "askdocs"
main()
"""


def guarded(log: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", GUARD, str(log), *args], capture_output=True, text=True, timeout=900
    )


def test_ingest_retrieve_and_ask_make_no_outbound_connection(tmp_path, docs):
    log = tmp_path / "attempts.log"
    store = str(tmp_path / "store")
    ingest = guarded(log, "--store", store, "ingest", str(docs), "--json")
    assert ingest.returncode == 0, ingest.stderr
    assert json.loads(ingest.stdout)["added"] == 8
    retrieve = guarded(log, "--store", store, "retrieve", "warranty claim", "--json")
    assert retrieve.returncode == 0 and json.loads(retrieve.stdout)["results"]
    ask = guarded(
        log, "--store", store, "ask", "Is the drip tray dishwasher-safe?", "--llm", "fake", "--json"
    )
    assert ask.returncode == 0 and "top rack" in json.loads(ask.stdout)["answer"]
    attempts = log.read_text().splitlines() if log.exists() else []
    assert attempts == [], f"outbound network attempts: {sorted(set(attempts))}"

    # Control: the guard does see traffic. A model server on a non-local name is refused and recorded
    # before any packet is sent, and askdocs says what to check.
    settings = tmp_path / "remote.yaml"
    settings.write_text("llm:\n  ollama_url: http://ollama.invalid:11434\n")
    remote = guarded(log, "--settings", str(settings), "--store", store, "ask", "hi", "--llm", "ollama:m")
    assert remote.returncode == 1 and "ollama serve" in remote.stderr and "Traceback" not in remote.stderr
    assert log.read_text().splitlines() == ["resolve ollama.invalid"]
