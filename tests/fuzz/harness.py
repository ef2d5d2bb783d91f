"""What every fuzz target shares: the hypothesis settings, a per-input time limit, a scratch folder.

A target is a strategy and a check; `run_round` tries the check on up to `max_examples` drawn inputs and
raises on a finding, after hypothesis has shrunk the input and printed it ("Falsifying example").
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.strategies import SearchStrategy

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / ".hypothesis" / "fuzz"  # git-ignored; holds the input being tried (kept after a crash)
# Generous: unstructured classifies each paragraph with spaCy (about 0.4 ms a word), which is slow but linear.
PER_INPUT_SECONDS = 30
T = TypeVar("T")
tried = [0]  # inputs tried in this process, shrinking included

FUZZ_SETTINGS = settings(
    deadline=None,  # slow inputs are caught by `time_limit`, not by hypothesis's flaky-prone deadline
    database=None,  # findings become regression tests; nothing is replayed from disk
    suppress_health_check=list(HealthCheck),
    print_blob=False,
    phases=[Phase.generate, Phase.shrink],  # no "explain": it traces every line, which is slow
)


HANG_EXIT = 3  # a child's exit status after a hang; the runner reports it


class _Hang(BaseException):
    """Raised by the alarm; a BaseException so the code under test cannot swallow it as an `Exception`."""


def _on_alarm(signum: int, frame: object) -> None:
    raise _Hang


@contextmanager
def time_limit(culprit: Path, seconds: float = PER_INPUT_SECONDS) -> Iterator[None]:
    """End the process with `HANG_EXIT` when the block runs longer than `seconds`, naming `culprit`.

    Not a hypothesis failure: shrinking would run the slow input again and again. The alarm repeats every
    second, so a `_Hang` raised where Python ignores exceptions (a gc callback) comes again. C code that
    never returns to Python is not interrupted; the runner kills the process at the end of its budget."""
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds, 1.0)
    try:
        yield
    except _Hang:
        print(f"hang: no result after {seconds} s; the input is {culprit}", file=sys.stderr, flush=True)
        os._exit(HANG_EXIT)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def scratch(name: str) -> Path:
    """The file an input is written to before it is tried: after a crash, it holds the culprit."""
    WORK.mkdir(parents=True, exist_ok=True)
    return WORK / name


def one_line(message: str) -> bool:
    """Non-empty and a single line, by every line break Python knows (\\n, \\r, \\x85, \\u2028, ...)."""
    return bool(message.strip()) and len(message.splitlines()) == 1


def run_round(strategy: SearchStrategy[T], check: Callable[[T], None], max_examples: int) -> None:
    """One hypothesis run of `check` over inputs from `strategy`, each counted in `tried`."""

    @settings(FUZZ_SETTINGS, max_examples=max_examples)
    @given(strategy)
    def fuzz(case: T) -> None:
        tried[0] += 1
        check(case)

    fuzz()
