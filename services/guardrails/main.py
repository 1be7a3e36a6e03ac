"""`wapipe run guardrails`: consume wa.inbound.v1, decide, serve /healthz /readyz /metrics on 9102."""

from __future__ import annotations

import asyncio

from prometheus_client import CollectorRegistry

from services.guardrails.app import build_app
from services.guardrails.config import GuardrailsSettings
from wapipe.logging import configure_logging
from wapipe.redis import connect
from wapipe.runtime.producer import Producer
from wapipe.runtime.service import serve_worker
from wapipe.store import open_store


async def run(s: GuardrailsSettings) -> None:
    registry = CollectorRegistry()
    redis = connect(s.redis_url)
    store = open_store(s.store_url)
    await store.migrate()
    producer = Producer(s.kafka(), topic_prefix=s.topic_prefix)
    app = build_app(s, redis=redis, store=store, producer=producer, registry=registry)
    await serve_worker(app.worker, port=s.guardrails_metrics_port, registry=registry,
                       on_shutdown=[store.close, redis.aclose])


def main() -> None:
    s = GuardrailsSettings()
    configure_logging("guardrails", production=s.production, level=s.log_level, fmt=s.log_format)
    asyncio.run(run(s))
