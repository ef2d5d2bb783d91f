import os
import signal
import subprocess
import sys
import textwrap

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
