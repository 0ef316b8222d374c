"""/metrics text from the engine's counters, read back with Prometheus's own parser."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from engine.metrics import MetricsSource, exposition
from engine.stats import EngineStats


def parse(text: bytes) -> dict[str, list[tuple[dict[str, str], float]]]:
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text.decode()):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return samples


def test_counters_gauges_and_histograms_carry_engine_and_region() -> None:
    stats = EngineStats(probes_total=10, probe_failures=3, results_written=9, records_spooled=4,
                        storage_down=True)
    for seconds in (0.0005, 0.02, 0.02, 3.0):
        stats.lateness.observe(seconds)
    stats.write_latency.observe(0.004)
    render = exposition(MetricsSource(
        engine="eu-1", region="eu", stats=stats, queue_depth=lambda: 7, checks=lambda: 12, running=lambda: 5,
        shards=lambda: (21, 64), notifications=lambda: (2, 1),
    ))

    samples = parse(render())

    labels = {"engine": "eu-1", "region": "eu"}
    assert samples["pulsewatch_probes_total"] == [(labels, 10)]
    assert samples["pulsewatch_probe_failures_total"] == [(labels, 3)]
    assert samples["pulsewatch_queue_depth"] == [(labels, 7)]
    assert samples["pulsewatch_records_spooled"] == [(labels, 4)]
    assert samples["pulsewatch_storage_up"] == [(labels, 0)]
    assert samples["pulsewatch_leases_held"] == [(labels, 21)]
    assert samples["pulsewatch_checks_running"] == [(labels, 5)]
    assert samples["pulsewatch_notifications_sent_total"] == [(labels, 2)]
    buckets = {s[0]["le"]: s[1] for s in samples["pulsewatch_probe_lateness_seconds_bucket"]}
    picked = (buckets["0.001"], buckets["0.025"], buckets["2.5"], buckets["5.0"], buckets["+Inf"])
    assert picked == (1, 3, 3, 4, 4)
    assert samples["pulsewatch_probe_lateness_seconds_count"] == [(labels, 4)]
    assert samples["pulsewatch_db_write_seconds_count"] == [(labels, 1)]


def test_every_scrape_reads_the_counters_afresh() -> None:
    stats = EngineStats()
    render = exposition(MetricsSource(engine="e", region="", stats=stats, queue_depth=lambda: 0,
                                      checks=lambda: 0, running=lambda: 0, shards=lambda: (64, 64)))
    assert parse(render())["pulsewatch_probes_total"][0][1] == 0

    stats.probes_total = 5

    assert parse(render())["pulsewatch_probes_total"][0][1] == 5
    assert "pulsewatch_notifications_sent_total" not in parse(render())
