"""Broker gone: the webhook answers 503 within the publish bound (so Meta retries) and readiness fails."""

from __future__ import annotations

import time

import httpx
from prometheus_client import CollectorRegistry

from schemas.topics import INBOUND
from services.ingress.app import create_app
from services.ingress.readiness import BrokerProbe
from tests.integration.ingress.conftest import sample, settings_for, signed
from tests.support import read_topic, release_kafka_clients, unique
from wapipe.runtime.producer import Producer
from wapipe.topics import create_topics, registry_specs
from wapipe_tools.local.servers import ServerProcess, start_broker

PUBLISH_BOUND_S = 2.0


async def _accepted_then_refused(broker: ServerProcess, redis_client: object) -> None:
    prefix = unique("down") + "."
    create_topics(broker.address, registry_specs(prefix, 1))
    s = settings_for(broker.address, prefix, ingress_publish_timeout_s=PUBLISH_BOUND_S, ingress_ready_cache_s=0)
    # Both outlive their broker on purpose: keep librdkafka's reconnect errors off stderr.
    quiet: dict[str, object] = {"log_level": 0}
    producer = Producer(broker.address, topic_prefix=prefix, delivery_timeout_s=PUBLISH_BOUND_S, extra=quiet)
    probe = BrokerProbe(broker.address, cache_s=0, extra=quiet)
    try:
        app = create_app(s, producer=producer, redis=redis_client, registry=CollectorRegistry(),  # type: ignore[arg-type]
                         probe=probe)
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
            # Bounded by the publish timeout, not by how long the broker stays away: Meta must not see a hang.
            # The slack is wide on purpose (a busy machine); a missing bound would wait for ever.
            assert elapsed < PUBLISH_BOUND_S + 30
            assert (await client.get("/readyz")).status_code == 503
    finally:
        producer.close(0.5)


async def test_broker_stopped_gives_503_within_bound(redis_client: object) -> None:
    broker = start_broker()
    try:
        await _accepted_then_refused(broker, redis_client)
    finally:
        broker.stop()
        release_kafka_clients()  # the producer and the readiness probe of the app, pointed at the stopped broker
