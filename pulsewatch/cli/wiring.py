"""Composition: from command-line options to a loaded config, a database URL, a store and an engine."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING

from pulsewatch.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Callable

    from engine.cluster import Cluster
    from engine.http.api.backend import ApiBackend
    from engine.notifier import Notifier
    from engine.runtime import Engine
    from engine.storage.store import SqlStore
    from pulsewatch.config import LoadedConfig
    from pulsewatch.domain.events import EngineEvent
    from pulsewatch.domain.monitoring import Check


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
    """A function building the engine for this config once the host provides its `emit` callback.

    The engine's start-up sync is audited (as `engine:<name>`) through `AuditedSyncStore`, and the
    checks get their generated heartbeat tokens here (this reads the installation secret).
    """
    from engine.runtime import Engine
    from engine.storage.command_store import SqlCommandStore
    from pulsewatch.cli import attach_wiring, billing_wiring, operations
    from pulsewatch.cli.audited_sync import AuditedSyncStore

    engine_name = name or config.engine.name or default_engine_name()
    checks = desired_checks(config, store)

    def make(emit: Callable[[EngineEvent], None]) -> Engine:
        # One cluster for the engine and its API: the API sends pause and run now of the checks it
        # does not run to the engine that does (engine.http.api.check_routing); the command loop does
        # the same for the console's (engine.command_forward, through `command_table`).
        cluster = operations.make_cluster(config, store, engine_name)
        return Engine(AuditedSyncStore(store, engine_name), checks, name=engine_name, emit=emit,
                      concurrency=config.engine.concurrency, listen=config.engine.listen,
                      rollups=billing_wiring.maintained_rollups(config, store), retention=config.retention,
                      notifier=make_notifier(config, store, engine_name),
                      api=make_api(config, store, cluster),
                      cluster=cluster,
                      config=operations.config_source(config, store),
                      spool_dir=operations.spool_dir(store), buffer=config.engine.buffer,
                      meter=billing_wiring.usage_meter(store),
                      seats=billing_wiring.seat_meter(store),
                      companions=attach_wiring.engine_companions(store),
                      command_table=SqlCommandStore(store))

    return make


def desired_checks(config: LoadedConfig, store: SqlStore) -> tuple[Check, ...]:
    """The config's checks as they go into the store: heartbeat checks without a `token:` get their
    generated one, keyed with the installation secret (created in the database on first need).

    Every path that syncs or compares the config's checks with the store goes through this (engine
    start, `config plan`, `config apply`), so they all agree on the tokens.
    """
    from pulsewatch.config_billing import require_within_plans
    from pulsewatch.domain.heartbeats import GENERATE_TOKEN, with_generated_tokens

    require_within_plans(config)  # checks beyond their organization's plan never reach the store
    if not any(c.heartbeat is not None and c.heartbeat.token == GENERATE_TOKEN for c in config.checks):
        return tuple(config.checks)
    from engine.storage.settings_store import installation_secret

    return with_generated_tokens(config.checks, installation_secret(store))


def make_api(config: LoadedConfig, store: SqlStore, cluster: Cluster | None = None) -> ApiBackend | None:
    """The REST API and status pages of an engine that listens (engine.http.api); None without `listen`.

    Checks created or changed through the API pass the same billing gates as `config apply`; with
    the engine's `cluster`, pause, resume and run now reach the engine that runs the check.
    """
    if config.engine.listen is None:
        return None
    from engine.http.api.backend import ApiBackend
    from pulsewatch.cli import billing_wiring

    return ApiBackend.for_config(store, config, billing_wiring.billing_gates(config, store), cluster)


def make_notifier(config: LoadedConfig, store: SqlStore, engine_name: str) -> Notifier:
    """The engine's notifier: incidents and alerts for this config, on the store's database."""
    from datetime import UTC, datetime

    from engine.notifier import Notifier
    from engine.storage.alerting_store import AlertStore

    def now() -> datetime:
        return datetime.now(UTC)

    from pulsewatch.cli import billing_wiring

    alerts = AlertStore(store)
    return Notifier(alerts, config.alerting, engine=engine_name, wall_clock=now,
                    gate=billing_wiring.sms_gate(config, store, alerts))
