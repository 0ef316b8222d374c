"""Composition: from command-line options to a loaded config, a database URL, a store and an engine."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING

from pulsewatch.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Callable

    from engine.notifier import Notifier
    from engine.runtime import Engine
    from engine.storage.store import SqlStore
    from pulsewatch.config import LoadedConfig
    from pulsewatch.domain.events import EngineEvent


def data_dir() -> Path:
    """The user's data directory for PulseWatch (SQLite files live here by default)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("pulsewatch", appauthor=False))


def load(config_option: str | None) -> LoadedConfig:
    """Load the config named by -c/FILE, else $PULSEWATCH_CONFIG, else ./pulsewatch.yaml."""
    from pulsewatch.config import default_config_path, load_config

    path = Path(config_option) if config_option else default_config_path()
    if not path.exists():
        raise ConfigError(
            f"config file not found: {path}",
            [f"{path}: config file not found (pass -c FILE, set $PULSEWATCH_CONFIG, "
             "or start from config.example.yaml)"],
        )
    return load_config(path)


def database_url(config: LoadedConfig) -> str:
    """The database URL: the config's, else $PULSEWATCH_DATABASE_URL, else SQLite in the data dir.

    A relative SQLite path in the config is taken relative to the config file, so an engine started
    by systemd from `/` finds the same database as one started in the config's folder.
    """
    url = config.database_url or os.environ.get("PULSEWATCH_DATABASE_URL")
    if not url:
        return f"sqlite:///{data_dir() / 'pulsewatch.db'}"
    prefix = "sqlite:///"
    if url.startswith(prefix) and config.path is not None:
        rest = url[len(prefix):]
        if rest and rest != ":memory:" and not rest.startswith("/"):
            return prefix + str((config.path.parent / rest).resolve())
    return url


def open_store(url: str, *, upgrade: bool = True) -> SqlStore:
    """Open the store at `url`, creating or upgrading its schema unless `upgrade` is False."""
    from engine.storage.store import open_store as _open_store

    return _open_store(url, upgrade=upgrade)


def default_engine_name() -> str:
    """HOST-PID: unique among engines sharing a database, readable in logs."""
    return f"{socket.gethostname()}-{os.getpid()}"


def make_engine_factory(
    config: LoadedConfig, store: SqlStore, name: str | None = None
) -> Callable[[Callable[[EngineEvent], None]], Engine]:
    """A function building the engine for this config once the host provides its `emit` callback."""
    from engine.runtime import Engine
    from engine.storage.rollup_store import RollupStore

    engine_name = name or config.engine.name or default_engine_name()

    def make(emit: Callable[[EngineEvent], None]) -> Engine:
        return Engine(store, config.checks, name=engine_name, emit=emit,
                      concurrency=config.engine.concurrency, listen=config.engine.listen,
                      rollups=RollupStore(store), retention=config.retention,
                      notifier=make_notifier(config, store, engine_name))

    return make


def make_notifier(config: LoadedConfig, store: SqlStore, engine_name: str) -> Notifier:
    """The engine's notifier: incidents and alerts for this config, on the store's database."""
    from datetime import UTC, datetime

    from engine.notifier import Notifier
    from engine.storage.alerting_store import AlertStore

    def now() -> datetime:
        return datetime.now(UTC)

    return Notifier(AlertStore(store), config.alerting, engine=engine_name, wall_clock=now)
