"""Whole-process answer speed: `python bench/ask_process.py [STORE] [RUNS]` prints one JSON line.

Runs `askdocs ask` as a user does, each time in a new process, against STORE (default: data/ ingested by
`askdocs ingest` into a fresh store), and times the first answer byte on its stdout and the whole run:
Python's start-up, opening the store, loading the embedding and chat models and retrieval all count.
Each question runs RUNS times (default 2) with each embedding backend (`onnx`, the default, and
`torch`), the backends taking turns so both see the same machine. Not part of the test suite (timings
on a shared machine).
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
from rag.offline import apply_offline_environment  # noqa: E402

apply_offline_environment()

from rag.settings import update_settings_file  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ASKDOCS = Path(sys.executable).parent / "askdocs"
QUESTIONS = ["How long is the warranty?", "How often should I descale the machine?"]
BACKENDS = ("onnx", "torch")


def main(store: Path | None, runs: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        configs = {backend: _settings_file(Path(tmp), backend) for backend in BACKENDS}
        if store is None:
            store = Path(tmp) / "store"
            _askdocs(configs["onnx"], store, "ingest", str(ROOT / "data"))
        timings: dict[str, list[dict]] = {backend: [] for backend in BACKENDS}
        for _ in range(runs):
            for question in QUESTIONS:
                for backend in BACKENDS:
                    timings[backend].append(timed_ask(configs[backend], store, question))
    return {"runs": runs, "questions": QUESTIONS, **{b: _summary(t) for b, t in timings.items()}}


def _settings_file(folder: Path, backend: str) -> Path:
    """The project's settings.yaml with `embeddings.backend` set."""
    path = folder / f"settings-{backend}.yaml"
    shutil.copyfile(ROOT / "settings.yaml", path)
    update_settings_file(path, {"embeddings": {"backend": backend}})
    return path


def _askdocs(settings: Path, store: Path, *args: str) -> None:
    command = [str(ASKDOCS), "--settings", str(settings), "--store", str(store), *args]
    subprocess.run(command, check=True, capture_output=True)


def timed_ask(settings: Path, store: Path, question: str) -> dict:
    """Seconds to the first non-blank byte `askdocs ask` prints, and to its exit."""
    command = [str(ASKDOCS), "--settings", str(settings), "--store", str(store), "ask", question]
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    first = None
    while byte := process.stdout.read(1):
        if first is None and byte.strip():
            first = time.perf_counter() - start
    if process.wait() != 0:
        raise SystemExit(f"askdocs ask failed for {question!r} with {settings.name}")
    return {"first_byte_s": round(first or 0.0, 2), "total_s": round(time.perf_counter() - start, 2)}


def _summary(timings: list[dict]) -> dict:
    firsts = [t["first_byte_s"] for t in timings]
    return {
        "first_byte_s": firsts,
        "first_byte_s_median": round(statistics.median(firsts), 2),
        "total_s_median": round(statistics.median(t["total_s"] for t in timings), 2),
    }


if __name__ == "__main__":
    arguments = sys.argv[1:]
    chosen_store = Path(arguments[0]) if arguments else None
    print(json.dumps(main(chosen_store, int(arguments[1]) if len(arguments) > 1 else 2)))
