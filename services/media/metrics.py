"""Media stage metrics, registered on an injected CollectorRegistry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

STEP_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0, 80.0)
STEPS = ("download", "transcription", "ocr", "vision", "document")
FAILING = ("transcription", "ocr", "vision", "document", "store", "owner_index")


class MediaMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.messages = Counter("wapipe_media_messages_total",
                                "Messages through the media stage, by kind (text for non-media) and outcome "
                                "(passed, understood, unavailable:<reason>)",
                                ["tenant", "kind", "outcome"], registry=registry)
        self.failures = Counter("wapipe_media_step_failures_total",
                                "Understanding steps that failed after their retries (the message went on)",
                                ["step"], registry=registry)
        self.duration = Histogram("wapipe_media_step_duration_seconds",
                                  "Time per step: download, transcription, ocr, vision, document",
                                  ["step"], registry=registry, buckets=STEP_BUCKETS)
        # Every step's series from the start, at 0: Prometheus sees the first one as an increase (a series that
        # appears already at 1 has no rate), and a healthy stage's failures read 0, not "no data".
        for step in STEPS:
            self.duration.labels(step)
        for step in FAILING:
            self.failures.labels(step)
