"""Runtime metrics, shared by every consumer service (registered on the service's injected registry)."""

from __future__ import annotations

import weakref

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

DURATION_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


_BY_REGISTRY: weakref.WeakKeyDictionary[CollectorRegistry, RuntimeMetrics] = weakref.WeakKeyDictionary()


class RuntimeMetrics:
    """Labelled by service, so several workers of one process share one registry (see `for_registry`)."""

    @classmethod
    def for_registry(cls, registry: CollectorRegistry) -> RuntimeMetrics:
        metrics = _BY_REGISTRY.get(registry)
        if metrics is None:
            metrics = _BY_REGISTRY[registry] = cls(registry)
        return metrics

    def __init__(self, registry: CollectorRegistry) -> None:
        self.records = Counter(
            "wapipe_records_total",
            "Records finished by the runtime, by outcome (ok, dlq, skipped: told by its headers, not decoded).",
            ["service", "topic", "outcome"], registry=registry)
        self.retries = Counter(
            "wapipe_handler_retries_total", "Handler attempts that failed and were retried.",
            ["service", "topic"], registry=registry)
        self.duration = Histogram(
            "wapipe_handler_duration_seconds", "Time from a record's start to its outputs confirmed.",
            ["service", "topic"], buckets=DURATION_BUCKETS, registry=registry)
        self.in_flight = Gauge(
            "wapipe_in_flight_records", "Records fetched and not yet finished.", ["service"], registry=registry)
        self.lag = Gauge(
            "wapipe_consumer_lag", "High watermark minus the committed position, per partition.",
            ["service", "topic", "partition"], registry=registry)
        self.dlq = Counter(
            "wapipe_dlq_records_total", "Records sent to a dead-letter topic, by error class.",
            ["service", "topic", "error"], registry=registry)
        self.paused = Gauge(
            "wapipe_partitions_paused", "1 while the worker has paused its partitions (in-flight bound reached).",
            ["service"], registry=registry)
        self.rebalances = Counter(
            "wapipe_rebalances_total", "Partition assignments and revocations.", ["service", "kind"],
            registry=registry)
