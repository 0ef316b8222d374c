"""Pause and run now from the embedded console's engine, for a check another engine holds: an in-process
engine built as the console builds it (`wiring.make_engine_factory`, with its cluster) beside a real
`pulsewatch engine` process, on MariaDB.

What must hold: the in-process engine does not act itself — it leaves the command for the holder,
which claims it, applies it (the stored state says paused and its probing stops; a run-now probes a
check whose schedule would not, once) and reports it done; the console is told the command's number.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import trio

from engine.storage.db import parse_url
from engine.storage.store import open_store
from pulsewatch.cli import wiring
from pulsewatch.domain.cluster import shard_of
from pulsewatch.domain.commands import CONSOLE_REQUESTER, CommandAction, CommandForwarded, CommandOutcome
from pulsewatch.domain.events import RunNow, SetPaused
from tests.engine.helpers import EventLog, bounded
from tests.integration.cluster_helpers import EngineProcess, engine_env, run_cli, wait_for
from tests.integration.servers import counting_server
from tests.integration.test_api_routing import stored_status, write_config
from tests.integration.test_attach_engines import holders, query, settle, split_evenly
from tests.storage.backends import MYSQL_URL, reset_mysql_database

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from engine.runtime import Engine
    from engine.storage.store import SqlStore
    from pulsewatch.domain.commands import Command

pytestmark = [pytest.mark.slow, pytest.mark.mysql, pytest.mark.trio]


def forward_url() -> str:
    target = parse_url(MYSQL_URL)
    return MYSQL_URL.rsplit("/", 1)[0] + f"/{target.database}_cfwd"


async def blocking(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """A blocking wait or read, off the trio thread (the in-process engine keeps running meanwhile)."""
    return await trio.to_thread.run_sync(lambda: fn(*args, **kwargs))


async def forwarded(
    engine: Engine, events: EventLog, store: SqlStore, command: RunNow | SetPaused
) -> Command:
    """Send `command` as the console does; the command row it became, once its holder has answered."""
    before = len(events.of(CommandForwarded))
    engine.submit_nowait(command)
    await events.wait_for(lambda log: len(log.of(CommandForwarded)) > before)
    notice = events.of(CommandForwarded)[before]
    assert notice.error is None, notice.text
    assert notice.command.id is not None
    assert f"forwarded to the engine holding it as command #{notice.command.id}" in notice.text
    done: Command = await blocking(settle, store, notice.command.id)
    return done


@bounded(150)
async def test_console_pause_and_run_now_of_another_engines_check_are_done_by_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = forward_url()
    reset_mysql_database(url)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))  # the in-process engine's spool
    with counting_server() as server:
        config = write_config(tmp_path, url, server.base_url)
        assert run_cli("config", "apply", "-c", str(config), cwd=tmp_path).returncode == 0
        other = EngineProcess("e2", config, tmp_path, engine_env(tmp_path)).start()
        store = open_store(url)
        events = EventLog()
        engine = wiring.make_engine_factory(wiring.load(str(config)), store, "e1")(events)
        try:
            async with trio.open_nursery() as nursery:
                await nursery.start(engine.run)
                await blocking(wait_for, lambda: split_evenly(url), what="the shards split between e1 and e2")
                rows = await blocking(query, url, "SELECT id, name FROM checks")
                ids = {str(name): int(i) for i, name in rows}
                held = await blocking(holders, url)
                fast = next(n for n, i in ids.items() if n.startswith("fast") and held[shard_of(i)] == "e2")
                slow = next(n for n, i in ids.items() if n.startswith("slow") and held[shard_of(i)] == "e2")
                path, slow_path = f"/ok/{fast}", f"/ok/{slow}"
                await blocking(wait_for, lambda: server.served.get(path, 0) >= 2, what=f"e2 probing {fast}")

                # -- pause: left for e2, which applies it; the stored state says paused, probing stops --
                paused = await forwarded(engine, events, store,
                                         SetPaused(ids[fast], True, requested_by=CONSOLE_REQUESTER))
                assert (paused.action, paused.check_id, paused.requested_by) == (
                    CommandAction.PAUSE, ids[fast], CONSOLE_REQUESTER)
                assert (paused.outcome, paused.claimed_by) == (CommandOutcome.OK, "e2"), paused
                assert await blocking(stored_status, store, ids[fast]) == "paused"
                await trio.sleep(1.5)  # a probe that was in flight when the pause landed may still finish
                before = server.served.get(path, 0)
                await trio.sleep(3.5)  # three intervals and more: a probing holder would have probed again
                assert server.served.get(path, 0) == before, "e2 kept probing a paused check"
                still = await blocking(stored_status, store, ids[fast])
                assert still == "paused", "the pause was overwritten"

                # -- run now: e2 probes a check whose schedule would not, once --------------------------
                runs = server.served.get(slow_path, 0)
                ran = await forwarded(engine, events, store, RunNow(ids[slow]))
                assert (ran.action, ran.requested_by) == (CommandAction.RUN_NOW, CONSOLE_REQUESTER)
                assert (ran.outcome, ran.claimed_by) == (CommandOutcome.OK, "e2"), ran
                await blocking(wait_for, lambda: server.served.get(slow_path, 0) >= runs + 1,
                               what=f"e2 probing {slow} now")
                await trio.sleep(1.0)
                assert server.served.get(slow_path, 0) == runs + 1, "probed once"
                engine.stop()
        finally:
            store.close()
            code = await blocking(other.stop)
        assert code == 0
