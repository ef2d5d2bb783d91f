"""The store on a Chroma server (`store.server`): a real `chroma run` on loopback, driven by the CLI."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding

from rag.errors import EmbeddingMismatchError, SettingsError
from rag.settings import load_settings
from rag.store import open_store

BIN = Path(sys.executable).parent
DATA = Path(__file__).resolve().parent.parent / "data"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_heartbeat(url: str, server: subprocess.Popen, log: Path, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert server.poll() is None, f"chroma run exited early:\n{log.read_text(errors='replace')}"
        try:
            with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"no heartbeat from {url} within {timeout_s} s:\n{log.read_text(errors='replace')}")


def start_server(tmp_path: Path) -> tuple[str, Path, subprocess.Popen]:
    """A real Chroma server on a free loopback port: its URL, its --path folder, its process."""
    data, port = tmp_path / "server-data", free_port()
    log = tmp_path / "chroma.log"
    command = [str(BIN / "chroma"), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_heartbeat(url, server, log)
    except BaseException:
        stop(server)
        raise
    return url, data, server


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


@pytest.fixture
def chroma_server(tmp_path) -> Iterator[tuple[str, Path]]:
    """A real Chroma server on a free loopback port: (its URL, its --path folder)."""
    url, data, server = start_server(tmp_path)
    try:
        yield url, data
    finally:
        stop(server)


def settings_file(folder: Path, server: str) -> Path:
    """A settings file whose store folder is `folder/store`, with its collection on `server`."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "settings.yaml"
    path.write_text(f"store:\n  path: store\n  server: {server}\n", encoding="utf-8")
    return path


def askdocs(settings: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "askdocs"), "--settings", str(settings), *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=os.environ.copy(),
    )


def askdocs_json(settings: Path, *args: str) -> dict:
    result = askdocs(settings, *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def server_count(url: str, collection: str = "askdocs") -> int:
    """Chunks in the server's collection, asked of the server itself (not through askdocs)."""
    import chromadb

    host, port = url.removeprefix("http://").split(":")
    client = chromadb.HttpClient(
        host=host, port=int(port), settings=chromadb.Settings(anonymized_telemetry=False)
    )
    try:
        return client.get_collection(collection).count()
    finally:
        client.close()


def test_ingest_and_ask_against_a_chroma_server(chroma_server, tmp_path):
    url, server_data = chroma_server
    writer = settings_file(tmp_path / "writer", url)
    ingested = askdocs_json(writer, "ingest", str(DATA))
    assert ingested["added"] == 8 and ingested["failed"] == [] and ingested["chunks"] > 8
    assert server_count(url) == ingested["chunks"]

    answer = askdocs_json(writer, "ask", "Where do I send a warranty claim?", "--llm", "fake")
    assert answer["sources"] and answer["sources"][0]["file"] == "warranty.pdf"

    local = tmp_path / "writer" / "store"
    assert not (local / "chroma").exists()
    assert {"manifest.sqlite", "lexical", "conversations.sqlite"} <= {p.name for p in local.iterdir()}
    assert (server_data / "chroma.sqlite3").stat().st_size > 0

    # A second machine's reader: an empty local folder, the same server; its lexical index is rebuilt.
    reader = settings_file(tmp_path / "reader", url)
    found = askdocs_json(reader, "retrieve", "Where do I send a warranty claim?", "--k", "3")["results"]
    assert found[0]["file"] == "warranty.pdf"
    status = askdocs_json(reader, "status")
    assert status["chunks"] == ingested["chunks"] and status["files"] == 0  # the manifest is the writer's
    assert not (tmp_path / "reader" / "store" / "chroma").exists()


def test_the_server_collection_remembers_its_embedding_model(chroma_server, tmp_path):
    url, _ = chroma_server
    fake = DeterministicFakeEmbedding(size=8)
    store = open_store(tmp_path / "one", "remembers", fake, "model-a", url)
    store.upsert(["x"], ["some text"], [fake.embed_query("some text")], [{"path": "/x.txt", "version": "1"}])
    store.close()
    with pytest.raises(EmbeddingMismatchError) as refused:
        open_store(tmp_path / "two", "remembers", fake, "model-b", url)
    assert str(refused.value) == (
        f"the collection 'remembers' on the Chroma server at {url} was built with embedding model "
        "'model-a', but settings say 'model-b': set embeddings.model back, or use another store.collection "
        "and ingest again"
    )
    assert not (tmp_path / "one" / "chroma").exists() and not (tmp_path / "two" / "chroma").exists()


def test_unreachable_server_is_one_line_naming_it(tmp_path):
    port = free_port()  # nothing listens there
    url = f"http://127.0.0.1:{port}"
    result = askdocs(settings_file(tmp_path, url), "status")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"askdocs: error: cannot reach the Chroma server at {url}: "
        f"is `chroma run --path DIR --host 127.0.0.1 --port {port}` running? "
        "(or leave store.server empty for the embedded store)"
    ]
    assert not (tmp_path / "store" / "chroma").exists()


@pytest.mark.parametrize(
    ("server", "kept"),
    [
        ('""', ""),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("https://chroma.lan:443/", "https://chroma.lan:443"),
    ],
)
def test_good_server_values(tmp_path, server, kept):
    path = tmp_path / "settings.yaml"
    path.write_text(f"store:\n  server: {server}\n", encoding="utf-8")
    assert load_settings(path).store.server == kept


@pytest.mark.parametrize(
    "server",
    [
        "localhost:8000",
        "http://127.0.0.1",
        "ftp://127.0.0.1:21",
        "http://127.0.0.1:99999",
        "http://h:8000/api",
    ],
)
def test_bad_server_values_name_the_key(tmp_path, server):
    path = tmp_path / "settings.yaml"
    path.write_text(f"store:\n  server: {server}\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"bad value for 'store\.server': .*http://HOST:PORT"):
        load_settings(path)


def test_a_server_that_dies_mid_ingest_is_one_line(tmp_path):
    url, _, server = start_server(tmp_path)
    notes = tmp_path / "notes"
    notes.mkdir()
    for n in range(60):
        (notes / f"note{n:02d}.txt").write_text(
            f"Note {n}. " + "The pump was serviced and the valve replaced. " * 60
        )
    command = [
        str(BIN / "askdocs"),
        "--settings",
        str(settings_file(tmp_path / "client", url)),
        "ingest",
        str(notes),
    ]
    ingest = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        seen = ""
        while "ingesting:" not in seen and (char := ingest.stderr.read(1)):
            seen += char
        stop(server)  # the server goes away while the ingest is writing to it
        rest = ingest.stderr.read()
        assert ingest.wait(timeout=300) == 1
    finally:
        ingest.kill()
        stop(server)
    lines = (seen + rest).split("askdocs: ", 1)[1].strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in rest
    assert lines[0].startswith("a server stopped answering mid-command")
