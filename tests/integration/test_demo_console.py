"""`pulsewatch demo` driven in a real terminal (tmux), as a newcomer would run it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is installed by .ci/run"),
]


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=False).stdout


def screen(session: str) -> str:
    return tmux("capture-pane", "-p", "-t", session)


def wait_for_screen(session: str, predicate: object, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = screen(session)
        if predicate(text):  # type: ignore[operator]
            return text
        time.sleep(0.25)
    raise AssertionError(f"screen never matched; last screen:\n{text}")


def test_demo_shows_states_changing_and_quits_cleanly(tmp_path: Path) -> None:
    session = f"pw-demo-{tmp_path.name}"[:60]
    database = f"sqlite:///{tmp_path / 'demo.db'}"
    exit_file = tmp_path / "exit-code"
    command = (
        f"{sys.executable} -c 'import sys; from pulsewatch.cli import main; sys.exit(main())' "
        f"demo --database {database}; echo $? > {exit_file}"
    )
    tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "36", "-e", "TERM=xterm-256color",
         "bash --norc --noprofile")
    tmux("send-keys", "-t", session, command, "Enter")
    try:
        first = wait_for_screen(session, lambda s: "storefront" in s and "payments" in s)
        assert "database-port" in first
        # within seconds the healthy endpoint is UP and the failing one is DOWN with its reason
        later = wait_for_screen(
            session, lambda s: "UP" in s and "DOWN" in s and "expected [STATUS] == 200, got 503" in s
        )
        assert "connection refused" in later  # the closed cache port
        tmux("send-keys", "-t", session, "q")
        deadline = time.monotonic() + 20
        while not exit_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert exit_file.read_text().strip() == "0"
        # the terminal is restored: the shell is back and the grid is gone with the alternate screen
        restored = screen(session)
        assert "storefront" not in restored
        assert "demo --database" in restored
    finally:
        tmux("kill-session", "-t", session)
