import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rag.errors import StoreBusyError, StorePathError
from rag.lock import write_lock


def test_a_second_writer_is_refused_with_the_holder_named(tmp_path):
    with write_lock(tmp_path, "ingest"):
        with pytest.raises(StoreBusyError, match=rf"process {os.getpid()} \(ingest, since .*--wait"):
            with write_lock(tmp_path, "upload", wait_s=0.3):
                pass
    with write_lock(tmp_path, "upload"):  # released: the next writer gets it
        pass


def test_a_killed_writer_leaves_no_stale_lock(tmp_path):
    holder = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from rag.lock import write_lock
        with write_lock(Path({str(tmp_path)!r}), "ingest"):
            print("locked", flush=True)
            time.sleep(600)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", holder], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "locked"
    with pytest.raises(StoreBusyError, match=f"process {child.pid}"):
        with write_lock(tmp_path, "ingest"):
            pass
    child.send_signal(signal.SIGKILL)
    child.wait()
    with write_lock(tmp_path, "ingest", wait_s=5):
        pass


def test_a_store_path_that_is_a_file_is_refused(tmp_path):
    path = tmp_path / "store"
    path.write_text("not a folder")
    with pytest.raises(StorePathError, match="is a file, not a folder"):
        with write_lock(path, "ingest"):
            pass


ASKDOCS = str(Path(sys.executable).parent / "askdocs")
DATA = Path(__file__).resolve().parent.parent / "data"


def askdocs(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([ASKDOCS, *args], capture_output=True, text=True, timeout=600)


def generated_notes(folder: Path, files: int) -> Path:
    """Enough text to keep a writer busy for a minute or more on this machine."""
    folder.mkdir()
    words = "boiler grinder steam valve pressure filter gasket pump descale tamper portafilter".split()
    for n in range(files):
        paragraphs = (" ".join(words[(n + i * j) % len(words)] for j in range(130)) for i in range(8))
        (folder / f"note{n:03d}.txt").write_text("\n\n".join(paragraphs))
    return folder


def wait_for(stream, text: str) -> bool:
    seen = ""
    while text not in seen and (char := stream.read(1)):
        seen += char
    return text in seen


def test_readers_keep_working_while_a_writer_ingests(tmp_path):
    store = str(tmp_path / "store")
    assert askdocs("--store", store, "ingest", str(DATA)).returncode == 0
    writer = subprocess.Popen(
        [ASKDOCS, "--store", store, "ingest", str(generated_notes(tmp_path / "notes", 150))],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert wait_for(writer.stderr, "ingesting:"), "no progress bar"  # it has started writing
        for command in (["retrieve", "--k", "2"], ["ask", "--llm", "fake"], ["retrieve", "--k", "2"]):
            result = askdocs("--store", store, *command, "How long is the warranty?", "--json")
            assert result.returncode == 0, result.stderr
            assert '"file": "warranty.pdf"' in result.stdout
            assert writer.poll() is None, "the writer finished before the readers: give it more to do"
        second = askdocs("--store", store, "ingest", str(DATA))
        assert second.returncode == 1 and "is writing to the store" in second.stderr  # one writer at a time
    finally:
        writer.kill()
        writer.wait()
    after = askdocs(
        "--store", store, "retrieve", "warranty period", "--json"
    )  # killed mid-write: still opens
    assert after.returncode == 0 and '"file": "warranty.pdf"' in after.stdout
