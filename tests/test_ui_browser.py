"""The page in a real browser: Debian's chromium, driven by Playwright, against `askdocs ui` on a free port.

A first-time user's path with the default local model: empty page, upload a PDF, ask, watch the answer
stream in, open the cited page. Screenshots go to tests/output/browser/ (git-ignored). Slow: the
packaged model is assembled on first use and answers in tens of seconds to minutes on two cores.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ASKDOCS = str(Path(sys.executable).parent / "askdocs")
CHROMIUM = "/usr/bin/chromium"
OUTPUT = ROOT / "tests" / "output" / "browser"
MINUTE = 60_000  # Playwright waits are in milliseconds


def settle(page) -> None:
    """Wait until Streamlit has finished the current script run (its running indicator is gone)."""
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=10 * MINUTE)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_serving(url: str, proc: subprocess.Popen, attempts: int = 240) -> None:
    for _ in range(attempts):
        if proc.poll() is not None:
            raise AssertionError(f"askdocs ui exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read() == b"ok":
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"the page did not come up at {url}")


@pytest.fixture
def server(tmp_path: Path):
    port = free_port()
    settings = tmp_path / "settings.yaml"
    settings.write_text(f"store:\n  path: {tmp_path / 'store'}\nllm:\n  max_tokens: 160\n")
    log = (tmp_path / "ui.log").open("w")
    proc = subprocess.Popen(
        [ASKDOCS, "--settings", str(settings), "ui", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={k: v for k, v in os.environ.items() if k not in ("ASKDOCS_STORE", "ASKDOCS_SETTINGS")},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, proc)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
        log.close()


@pytest.mark.slow
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (make test installs it)")
def test_first_time_user_uploads_asks_and_opens_the_cited_page(server: str):
    from playwright.sync_api import sync_playwright

    OUTPUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        page.goto(server)
        page.get_by_text("Your collection is empty").wait_for(timeout=3 * MINUTE)
        settle(page)
        page.screenshot(path=OUTPUT / "1-empty.png")

        page.locator("input[type=file]").first.set_input_files(ROOT / "data" / "warranty.pdf")
        page.get_by_role("button", name="Add to collection").click()
        page.get_by_text("1 added").wait_for(timeout=5 * MINUTE)
        settle(page)
        page.screenshot(path=OUTPUT / "2-uploaded.png")

        question = page.get_by_placeholder("Ask about your documents…")
        question.fill("How long does the warranty last?")
        question.press("Enter")
        page.get_by_text("Searching your documents").or_(
            page.get_by_text("Loading the language model")
        ).first.wait_for(timeout=2 * MINUTE)
        cited = page.get_by_text("Sources", exact=True)
        uncited = page.get_by_text("Also retrieved, not cited")
        cited.or_(uncited).first.wait_for(timeout=10 * MINUTE)
        settle(page)
        page.screenshot(path=OUTPUT / "3-answer.png", full_page=True)

        # The small model's wording varies; the contract is that every claim carries a checked citation
        # or is flagged as not supported by the sources.
        answer = page.locator('[data-testid="stChatMessage"]').nth(1).inner_text()
        assert re.search(r"\[\d\]", answer) or "not supported by the sources" in answer, answer
        if not cited.is_visible():
            uncited.click()
        page.get_by_text("Open page").first.click()
        image = page.locator('[data-testid="stImage"] img').first
        image.wait_for(timeout=2 * MINUTE)
        settle(page)
        image.evaluate("img => img.scrollIntoView({block: 'center'})")
        page.screenshot(path=OUTPUT / "4-cited-page.png")
        image.screenshot(path=OUTPUT / "5-page-image.png")
        browser.close()
    assert (OUTPUT / "4-cited-page.png").stat().st_size > 10_000
