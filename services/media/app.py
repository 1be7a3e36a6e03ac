"""Wiring: the media handler with its downloader, object store and understanding, on the runtime worker."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry

from schemas import topics
from services.media.config import MediaSettings
from services.media.handlers import MediaHandler, Ports
from services.media.metrics import MediaMetrics
from wapipe.runtime.producer import Producer
from wapipe.runtime.worker import Worker, WorkerConfig


@dataclass
class MediaApp:
    handler: MediaHandler
    worker: Worker


def build_app(s: MediaSettings, ports: Ports, *, producer: Producer, registry: CollectorRegistry,
              group_id: str | None = None) -> MediaApp:
    handler = MediaHandler(ports, MediaMetrics(registry))
    cfg = WorkerConfig(bootstrap=s.kafka(), group_id=group_id or s.media_consumer_group,
                       topics=topics.read_by("media"), topic_prefix=s.topic_prefix, service="media",
                       max_in_flight=s.media_max_in_flight, max_attempts=s.media_max_attempts,
                       batch_wait_s=s.kafka_batch_wait_ms / 1000)
    return MediaApp(handler, Worker(cfg, handler, producer=producer, registry=registry))
