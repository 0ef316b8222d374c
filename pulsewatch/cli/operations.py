"""Composition of the production parts of an engine: shard leases, the spool, config reloading.

Kept apart from `wiring` so the engine factory only passes them along.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from engine.cluster import Cluster
    from engine.config_reload import ConfigSource
    from engine.storage.store import SqlStore
    from pulsewatch.config import LoadedConfig
    from pulsewatch.domain.monitoring import Check


def make_cluster(config: LoadedConfig, store: SqlStore, engine_name: str) -> Cluster:
    """This engine's shard leases on the store's database (a lone engine simply holds every shard), and
    the queue that carries heartbeat pings to the engine owning their check."""
    from engine.cluster import Cluster
    from engine.storage.cluster_store import ClusterStore
    from engine.storage.ping_store import PingStore

    settings = config.engine
    return Cluster(ClusterStore(store), engine=engine_name, region=settings.region, lease=settings.lease,
                   quorum=settings.quorum, pings=PingStore(store))


def spool_dir(store: SqlStore) -> Path:
    """Where results wait while the database is down: one folder per database, so an engine only
    ever replays spool files meant for the database it writes to."""
    from pulsewatch.cli.wiring import data_dir

    digest = hashlib.sha256(store.url.encode()).hexdigest()[:12]
    return data_dir() / "spool" / digest


def config_source(config: LoadedConfig, store: SqlStore) -> ConfigSource | None:
    """The file a running engine reloads on SIGHUP or change; None for a config without a file."""
    if config.path is None:
        return None
    from engine.config_reload import ConfigSource
    from pulsewatch.cli.wiring import desired_checks
    from pulsewatch.config import load_config

    path = config.path

    def load() -> tuple[Check, ...]:
        return desired_checks(load_config(path), store)

    return ConfigSource(path=path, load=load, poll=config.engine.watch)
