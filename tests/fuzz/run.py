"""`make fuzz`: run the fuzz targets (loaders, settings) for a time budget; not part of `make test`.

    python -m tests.fuzz.run --minutes 10

The parent splits the budget between the targets and runs each in a child process, so a hang, a crash of
the interpreter or C code stuck past the budget is reported too, with the input being tried kept in
.hypothesis/fuzz/ (unshrunk). A child runs hypothesis rounds until its share is spent. At the end one line per
target: inputs tried, findings, seconds. Exit status 1 when anything was found; hypothesis has then
printed the shrunk failing input ("Falsifying example") above. Deliberately not here: coverage-guided
fuzzing (atheris), the CLI, the chain and the store.
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import time
import traceback
import warnings
from importlib import import_module

from tests.fuzz import harness
from tests.fuzz.harness import HANG_EXIT, ROOT, WORK

SHARES = {"loaders": 0.75, "settings": 0.25}  # of the budget; the loaders have seven formats to cover
ROUND_EXAMPLES = 20  # the budget is checked between rounds
GRACE_SECONDS = 120  # past its share, a child is stuck (a round cannot stop mid-input) and is killed


def run_child(target: str, seconds: float) -> dict:
    """Hypothesis rounds of one target until `seconds` are spent; the result also goes to a JSON file."""
    from rag.offline import apply_offline_environment

    apply_offline_environment(force=True)
    warnings.filterwarnings("ignore")  # unstructured warns about guessed encodings and empty documents
    logging.disable(logging.CRITICAL)
    fuzz_round = import_module(f"tests.fuzz.fuzz_{target}").fuzz_round
    start, findings = time.monotonic(), 0
    while time.monotonic() - start < seconds:
        try:
            fuzz_round(ROUND_EXAMPLES)
        except Exception:
            traceback.print_exc()
            findings = 1
            break
        finally:  # after every round, so the count survives a hang or a crash in the next one
            seconds_spent = time.monotonic() - start
            result = {
                "target": target,
                "tried": harness.tried[0],
                "findings": findings,
                "seconds": seconds_spent,
            }
            (WORK / f"{target}.json").write_text(json.dumps(result))
    return result


def run_parent(minutes: float) -> int:
    results = [_spawn(target, minutes * 60 * share) for target, share in SHARES.items()]
    for result in results:
        print(
            f"fuzz {result['target']}: {result['tried']} inputs tried, {result['findings']} findings, "
            f"{result['seconds']:.0f} s{result.get('note', '')}"
        )
    return 1 if any(result["findings"] for result in results) else 0


def _spawn(target: str, seconds: float) -> dict:
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / f"{target}.json").unlink(missing_ok=True)
    command = [sys.executable, "-m", "tests.fuzz.run", "--target", target, "--seconds", f"{seconds:.0f}"]
    start = time.monotonic()
    try:
        code = subprocess.run(command, cwd=ROOT, timeout=seconds + GRACE_SECONDS).returncode
    except subprocess.TimeoutExpired:
        code = None
    if code == 0 or code == 1:
        return json.loads((WORK / f"{target}.json").read_text())
    if code == HANG_EXIT:
        what = "an input hung"
    elif code is None:
        what = "stuck past its time budget"
    else:
        what = f"the interpreter died (exit status {code})"
    note = f" ({what}; the input is in {WORK}/)"
    progress = WORK / f"{target}.json"
    tried = json.loads(progress.read_text())["tried"] if progress.exists() else 0
    return {
        "target": target,
        "tried": tried,
        "findings": 1,
        "seconds": time.monotonic() - start,
        "note": note,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="whole budget (default 10)")
    parser.add_argument("--target", choices=sorted(SHARES), help=argparse.SUPPRESS)  # child mode
    parser.add_argument("--seconds", type=float, default=60.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.target:
        return run_child(args.target, args.seconds)["findings"]
    return run_parent(args.minutes)


if __name__ == "__main__":
    sys.exit(main())
