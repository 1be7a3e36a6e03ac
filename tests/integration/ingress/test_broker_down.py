"""Broker gone: the webhook answers 503 within the publish bound (so Meta retries) and readiness fails."""

from __future__ import annotations

import time

import httpx
from prometheus_client import CollectorRegistry

from schemas.topics import INBOUND
from services.ingress.app import create_app
from tests.integration.ingress.conftest import sample, settings_for, signed
from tests.support import read_topic, unique
from wapipe.runtime.producer import Producer
from wapipe.topics import create_topics, registry_specs
from wapipe_tools.local.servers import start_broker


async def test_broker_stopped_gives_503_within_bound(redis_client: object) -> None:
    broker = start_broker()
    prefix = unique("down") + "."
    producer = None
    try:
        create_topics(broker.address, registry_specs(prefix, 1))
        s = settings_for(broker.address, prefix, ingress_publish_timeout_s=2.0, ingress_ready_cache_s=0)
        producer = Producer(broker.address, topic_prefix=prefix, delivery_timeout_s=2.0)
        app = create_app(s, producer=producer, redis=redis_client, registry=CollectorRegistry())  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ingress") as client:
            body = sample("message_text")
            first = await client.post("/webhook", content=body, headers=signed(body))
            assert first.status_code == 200
            assert len(read_topic(broker.address, prefix + INBOUND, expect=1)) == 1
            assert (await client.get("/readyz")).status_code == 200

            broker.stop()
            body = sample("message_image")
            started = time.monotonic()
            down = await client.post("/webhook", content=body, headers=signed(body))
            elapsed = time.monotonic() - started
            assert down.status_code == 503, down.text
            assert elapsed < 6.0  # publish bound (2 s) plus slack: Meta must not see a hang
            assert (await client.get("/readyz")).status_code == 503
    finally:
        broker.stop()
        if producer is not None:
            producer.close(0.5)
