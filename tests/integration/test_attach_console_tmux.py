"""`pulsewatch console --attach` driven in a real terminal (tmux) beside a real `pulsewatch engine`
subprocess on MariaDB, as an operator on another machine would run it: the grid fills from the
database, `p` pauses a check through the commands table, the engine does it, the console says so.
"""

from __future__ import annotations

import shutil
import sys
import time
from typing import TYPE_CHECKING

import pytest

from engine.storage.db import parse_url
from tests.integration.cluster_helpers import EngineProcess, engine_env, wait_for
from tests.integration.servers import counting_server
from tests.integration.test_attach_engines import query
from tests.integration.test_demo_console import RESTORED, screen, terminal_modes, tmux, wait_for_screen
from tests.storage.backends import MYSQL_URL, reset_mysql_database

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = [
    pytest.mark.slow,
    pytest.mark.mysql,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is installed by .ci/run"),
]


def tmux_url() -> str:
    target = parse_url(MYSQL_URL)
    return MYSQL_URL.rsplit("/", 1)[0] + f"/{target.database}_tmux"


def write_config(tmp_path: Path, url: str, base_url: str) -> Path:
    path = tmp_path / "pulsewatch.yaml"
    path.write_text(f"""
database:
  url: {url}
engine:
  lease: 3s
checks:
  - name: storefront
    url: {base_url}/ok
    interval: 1s
  - name: payments
    url: {base_url}/fail
    interval: 1s
    conditions: ["[STATUS] == 200"]
""")
    return path


def console_command(tmp_path: Path, config: Path, exit_file: Path) -> str:
    # COLUMNS and LINES leak in from pytest through the tmux server and would pin the console at 80x24.
    return (
        f"env -u COLUMNS -u LINES XDG_CONFIG_HOME={tmp_path / 'config'} XDG_DATA_HOME={tmp_path / 'xdg'} "
        f"COLORTERM=truecolor {sys.executable} "
        "-c 'import sys; from pulsewatch.cli import main; sys.exit(main())' "
        f"console --attach -c {config}; echo $? > {exit_file}; exec sleep 600"
    )


def flat(text: str) -> str:
    """The screen as one line of words: a toast wraps its text over several lines of its box."""
    return " ".join(word for word in text.replace("│", " ").replace("▌", " ").split())


def test_an_attached_console_pauses_a_check_through_a_headless_engine(tmp_path: Path) -> None:
    url = tmux_url()
    reset_mysql_database(url)
    session = f"pw-attach-{tmp_path.name}"[:60]
    exit_file = tmp_path / "exit-code"
    with counting_server() as server:
        config = write_config(tmp_path, url, server.base_url)
        engine = EngineProcess("e1", config, tmp_path, engine_env(tmp_path)).start()
        try:
            wait_for(lambda: query(url, "SELECT 1 FROM results LIMIT 1"), what="the engine writing results")
            tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "36", "-e", "TERM=xterm-256color",
                 console_command(tmp_path, config, exit_file))
            try:
                first = wait_for_screen(session, lambda s: "storefront" in s and "payments" in s
                                        and "UP" in s and "DOWN" in s)
                assert "attached to mysql://" in first
                # only storefront in the grid, then pause it: the engine does it and the console says so
                tmux("send-keys", "-t", session, "/")
                wait_for_screen(session, lambda s: "esc Back to the grid" in s)
                tmux("send-keys", "-t", session, "-l", "storefront")
                wait_for_screen(session, lambda s: "1 of 2 checks" in s)
                tmux("send-keys", "-t", session, "Enter")
                wait_for_screen(session, lambda s: "esc Back to the grid" not in s)
                tmux("send-keys", "-t", session, "p")
                paused = wait_for_screen(session, lambda s: "PAUSED" in s and "done by engine e1" in flat(s))
                assert "sent →" in flat(paused)
                rows = query(url, "SELECT action, claimed_by, outcome FROM commands")
                assert rows == [("pause", "e1", "ok")]
                assert query(url, "SELECT s.status FROM check_states s JOIN checks c ON c.id = s.check_id "
                                  "WHERE c.name = 'storefront'") == [("paused",)]

                tmux("send-keys", "-t", session, "p")  # and back
                wait_for_screen(session, lambda s: "PAUSED" not in s.split("Notifications")[0]
                                and "resume storefront" in flat(s))
                wait_for(lambda: query(url, "SELECT COUNT(*) FROM commands WHERE outcome = 'ok'") == [(2,)],
                         what="the resume done")

                tmux("send-keys", "-t", session, "q")
                deadline = time.monotonic() + 20
                while not exit_file.exists() and time.monotonic() < deadline:
                    time.sleep(0.2)
                assert exit_file.read_text().strip() == "0"
                assert "storefront" not in screen(session)
                assert terminal_modes(session) == RESTORED
            finally:
                tmux("kill-session", "-t", session)
        finally:
            assert engine.stop() == 0
