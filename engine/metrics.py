"""Prometheus metrics of one engine, read from its counters at scrape time.

The engine already keeps its counters (engine.stats, the notifier's dispatcher, the cluster's
leases) as plain numbers on its trio thread; a custom collector turns them into metric families when
/metrics is scraped, so the hot path pays nothing for Prometheus and no value is counted twice.
Every family carries `engine` and `region` labels, so one Prometheus can scrape several engines and
sum them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from pulsewatch.domain.cluster import SHARDS

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from prometheus_client.metrics_core import Metric

    from engine.runtime import Engine
    from engine.stats import EngineStats, Histogram

LABELS = ("engine", "region")


@dataclass(frozen=True)
class MetricsSource:
    """Where the collector reads from (all callables are cheap and run on the listener's thread)."""

    engine: str
    region: str
    stats: EngineStats
    queue_depth: Callable[[], int]
    """Records waiting in the channel between probes and the recorder."""
    checks: Callable[[], int]
    """Checks the engine knows (configured and API-created)."""
    running: Callable[[], int]
    """Checks it probes now (their shard is held here, not paused, not heartbeat checks)."""
    shards: Callable[[], tuple[int, int]]
    """(shards held, shards per region)."""
    notifications: Callable[[], tuple[int, int]] | None = None
    """(notifications sent, failed delivery attempts); None without a notifier."""


class EngineCollector(Collector):
    """Builds the metric families from a MetricsSource on every scrape."""

    def __init__(self, source: MetricsSource) -> None:
        self._source = source

    def collect(self) -> Iterator[Metric]:
        source, stats = self._source, self._source.stats
        labels = [source.engine, source.region]

        def counter(name: str, doc: str, value: float) -> Metric:
            family = CounterMetricFamily(name, doc, labels=LABELS)
            family.add_metric(labels, value)
            return family

        def gauge(name: str, doc: str, value: float) -> Metric:
            family = GaugeMetricFamily(name, doc, labels=LABELS)
            family.add_metric(labels, value)
            return family

        yield counter("pulsewatch_probes", "Probes finished.", stats.probes_total)
        yield counter("pulsewatch_probe_failures", "Probes that failed.", stats.probe_failures)
        yield counter("pulsewatch_rounds_skipped", "Rounds dropped because the engine fell behind.",
                      stats.rounds_skipped)
        yield counter("pulsewatch_overlaps_skipped", "Rounds skipped because the previous probe still ran.",
                      stats.overlaps_skipped)
        yield _histogram("pulsewatch_probe_lateness_seconds", "Probe start minus its due time.",
                         stats.lateness, labels)
        yield counter("pulsewatch_results_written", "Results written to the database.", stats.results_written)
        yield counter("pulsewatch_flips_written", "Status changes written to the database.",
                      stats.flips_written)
        yield counter("pulsewatch_db_write_errors", "Database write batches that failed.", stats.write_errors)
        yield _histogram("pulsewatch_db_write_seconds", "Duration of a database write batch.",
                         stats.write_latency, labels)
        yield gauge("pulsewatch_queue_depth", "Records waiting between the probes and the recorder.",
                    source.queue_depth())
        yield gauge("pulsewatch_records_pending", "Records the recorder holds in memory, not yet written.",
                    stats.records_pending)
        yield gauge("pulsewatch_records_spooled", "Records waiting in the local spool file.",
                    stats.records_spooled)
        yield gauge("pulsewatch_storage_up", "1 while database writes succeed, 0 during an outage.",
                    0 if stats.storage_down else 1)
        yield counter("pulsewatch_storage_outages", "Times the database stopped accepting writes.",
                      stats.outages)
        held, total = source.shards()
        yield gauge("pulsewatch_leases_held", "Shards this engine holds.", held)
        yield gauge("pulsewatch_shards", "Shards per region.", total)
        yield gauge("pulsewatch_checks", "Checks the engine knows.", source.checks())
        yield gauge("pulsewatch_checks_running", "Checks this engine probes now.", source.running())
        yield counter("pulsewatch_config_reloads", "Configuration reloads applied.", stats.reloads)
        if source.notifications is not None:
            sent, failed = source.notifications()
            yield counter("pulsewatch_notifications_sent", "Notifications delivered.", sent)
            yield counter("pulsewatch_notification_failures", "Failed notification delivery attempts.",
                          failed)


def _histogram(name: str, doc: str, histogram: Histogram, labels: list[str]) -> Metric:
    family = HistogramMetricFamily(name, doc, labels=LABELS)
    buckets: list[tuple[str, float]] = []
    cumulative = 0
    for bound, count in zip(histogram.bounds, histogram.counts, strict=False):
        cumulative += count
        buckets.append((repr(float(bound)), cumulative))
    buckets.append(("+Inf", histogram.count))
    family.add_metric(labels, buckets, sum_value=histogram.total)
    return family


def exposition(source: MetricsSource) -> Callable[[], bytes]:
    """The text a /metrics scrape returns, from a registry of its own (never the process-global one)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(EngineCollector(source))

    def render() -> bytes:
        return generate_latest(registry)

    return render


def engine_metrics(engine: Engine) -> Callable[[], bytes]:
    """/metrics for a running engine."""
    cluster, notifier = engine.cluster, engine.notifier

    def shards() -> tuple[int, int]:
        if cluster is None:
            return SHARDS, SHARDS  # alone: every shard, without leases
        return len(cluster.held), cluster.shards

    notifications = None
    if notifier is not None:
        dispatcher = notifier.dispatcher

        def notifications() -> tuple[int, int]:
            return dispatcher.sent, dispatcher.failed_attempts

    return exposition(MetricsSource(
        engine=engine.name,
        region=cluster.region if cluster is not None else "",
        stats=engine.stats,
        queue_depth=lambda: engine.queue_depth,
        checks=lambda: len(engine.checks),
        running=lambda: len(engine.running_checks),
        shards=shards,
        notifications=notifications,
    ))
