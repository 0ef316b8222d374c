"""`pulsewatch demo` driven in a real terminal (tmux), as a newcomer would run it.

Each test process has its own tmux server (`tmux -L`): session names come from pytest's tmp_path
names, which repeat across concurrent runs of this file, and two runs sharing a server would type
into each other's console. The demo is the pane's own command rather than a line typed into a
shell, so no typed characters can reach the console before the shell has consumed them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is installed by .ci/run"),
]


SOCKET = f"pulsewatch-tests-{os.getpid()}"
"""This process's own tmux server."""


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", "-L", SOCKET, *args], capture_output=True, text=True, check=False).stdout


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


def terminal_modes(session: str) -> str:
    """The pane's alternate-screen, mouse-reporting and cursor-visible flags, e.g. "0 0 1"."""
    flags = "#{alternate_on} #{mouse_any_flag} #{cursor_flag}"
    return tmux("display-message", "-p", "-t", session, flags).strip()


RESTORED = "0 0 1"
"""Back on the normal screen, no mouse reporting, the cursor visible: what a shell needs."""


def test_demo_shows_states_changing_and_quits_cleanly(tmp_path: Path) -> None:
    session = f"pw-demo-{tmp_path.name}"[:60]
    exit_file = tmp_path / "exit-code"
    start_demo(session, tmp_path, exit_file)
    try:
        first = wait_for_screen(session, lambda s: "storefront" in s and "payments" in s)
        assert "database-port" in first
        assert terminal_modes(session) != RESTORED  # the console took the terminal over
        # within seconds the healthy endpoint is UP and the failing one is DOWN with its reason,
        # and the closed cache port is DOWN with its own
        wait_for_screen(session, lambda s: "UP" in s and "DOWN" in s and "connection refused" in s
                        and "expected [STATUS] == 200, got 503" in s)
        quit_demo(session, exit_file)
        # the terminal is restored: the grid is gone with the alternate screen, modes are reset
        assert "storefront" not in screen(session)
        assert terminal_modes(session) == RESTORED
    finally:
        tmux("kill-session", "-t", session)


def demo_command(tmp_path: Path, exit_file: Path) -> str:
    """The shell line that runs `pulsewatch demo`, its remembered theme kept under tmp_path."""
    database = f"sqlite:///{tmp_path / 'demo.db'}"
    # COLUMNS and LINES leak in from pytest through the tmux server and would pin the console at 80x24.
    return (
        f"env -u COLUMNS -u LINES XDG_CONFIG_HOME={tmp_path / 'config'} COLORTERM=truecolor "
        f"{sys.executable} -c 'import sys; from pulsewatch.cli import main; sys.exit(main())' "
        f"demo --database {database}; echo $? > {exit_file}; exec sleep 600"
    )


def start_demo(session: str, tmp_path: Path, exit_file: Path) -> None:
    """`pulsewatch demo` as the command of a fresh tmux pane (no typing into a shell to race with).

    After the console exits the pane idles (`sleep`), writing nothing, so the screen and the terminal
    modes read afterwards are exactly what the console left behind.
    """
    if exit_file.exists():
        exit_file.unlink()
    tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "36", "-e", "TERM=xterm-256color",
         demo_command(tmp_path, exit_file))


def press(session: str, key: str, *, until: Callable[[str], bool]) -> str:
    """Press one key, then wait for the screen to show its effect before the next one is sent."""
    tmux("send-keys", "-t", session, key)
    return wait_for_screen(session, until)


def quit_demo(session: str, exit_file: Path) -> None:
    tmux("send-keys", "-t", session, "q")
    deadline = time.monotonic() + 20
    while not exit_file.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert exit_file.read_text().strip() == "0"


def coloured_screen(session: str) -> str:
    return tmux("capture-pane", "-p", "-e", "-t", session)


WHITE_BACKGROUNDS = ("48;2;255;255;255", "48;5;231", "48;5;15", "107m")
"""How a terminal may be told to paint pulsewatch-light's white background."""


def test_filter_detail_theme_and_a_remembered_theme(tmp_path: Path) -> None:
    """A person filters with `/`, opens a check with enter, goes back with escape, switches the theme
    with `t`, quits, and finds the theme they picked when the console starts again."""
    session = f"pw-keys-{tmp_path.name}"[:50]
    again = f"{session}-again"
    exit_file = tmp_path / "exit-code"
    remembered = tmp_path / "config" / "pulsewatch" / "console.json"
    start_demo(session, tmp_path, exit_file)
    try:
        wait_for_screen(session, lambda s: "storefront" in s and "payments" in s and "UP" in s)
        press(session, "/", until=lambda s: "esc Back to the grid" in s)  # the filter has the keys now
        tmux("send-keys", "-t", session, "-l", "storefront")
        # the info line and the grid are drawn separately: wait for both rather than read a half frame
        wait_for_screen(session, lambda s: "1 of 7 checks" in s and "payments" not in s)
        press(session, "Enter", until=lambda s: "Detail" in s and "esc Back to the grid" not in s)
        detail = press(session, "Enter", until=lambda s: "Recent results" in s and "Flips" in s)
        assert "storefront" in detail
        assert "30d" in detail
        press(session, "Escape", until=lambda s: "1 of 7 checks" in s and "Recent results" not in s)
        tmux("send-keys", "-t", session, "t")  # dark → high contrast
        wait_for_file(remembered, "pulsewatch-high-contrast")
        tmux("send-keys", "-t", session, "t")  # → light
        wait_for_file(remembered, "pulsewatch-light")
        assert json.loads(remembered.read_text())["theme"] == "pulsewatch-light"
        quit_demo(session, exit_file)
        assert "storefront" not in screen(session)
        assert terminal_modes(session) == RESTORED

        # A second session while the first still idles: killing the last session stops the tmux
        # server, and a session started at that moment can be lost with it.
        start_demo(again, tmp_path, exit_file)
        wait_for_screen(again, lambda s: "storefront" in s and "payments" in s)
        painted = coloured_screen(again)
        assert any(code in painted for code in WHITE_BACKGROUNDS), "the light theme was not remembered"
        quit_demo(again, exit_file)
    finally:
        tmux("kill-session", "-t", again)
        tmux("kill-session", "-t", session)


def wait_for_file(path: Path, text: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text():
            return
        time.sleep(0.2)
    raise AssertionError(f"{path} never mentioned {text!r}")
