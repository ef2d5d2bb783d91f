"""`askdocs ui`: the Streamlit command line it runs (loopback, headless, no usage statistics)."""

from pathlib import Path

from rag.cli import ui_command
from rag.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def test_defaults_bind_loopback_headless_without_usage_stats():
    command = ui_command(Settings())
    assert command[1:4] == ["-m", "streamlit", "run"] and command[4] == str(ROOT / "ui" / "app.py")
    assert option(command, "--server.address") == "127.0.0.1"
    assert option(command, "--server.port") == "8501"
    assert option(command, "--server.headless") == "true"
    assert option(command, "--browser.gatherUsageStats") == "false"
    assert option(command, "--server.maxUploadSize") == "50"


def test_port_and_host_override_settings():
    command = ui_command(Settings(), port=9123, host="127.0.0.2")
    assert (option(command, "--server.port"), option(command, "--server.address")) == ("9123", "127.0.0.2")
