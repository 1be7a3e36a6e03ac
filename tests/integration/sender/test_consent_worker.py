"""The sender on the real broker, Redis and SQLite, for customers who opted out: business-initiated messages are
refused with reason opted_out (on wa.delivery.v1, not in the DLQ), answers to the customer still go."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry

from schemas.events import ReplyFailed, ReplySent, TemplateRef
from schemas.topics import DELIVERY, OUTBOUND, dlq_name
from services.sender.app import build_app
from services.sender.ports import SendPolicy, StaticPolicies
from tests.integration.sender.conftest import PNID, open_window, reply, settings
from tests.support import read_topic
from wapipe.runtime.producer import Producer
from wapipe.runtime.types import Emit
from wapipe.state.consent import Consent
from wapipe.store import ConsentChange, Store
from wapipe_tools.simulator.serve import BackgroundSimulator

pytestmark = pytest.mark.slow


@pytest.fixture
def producer(kafka_bootstrap: str, topic_prefix: str) -> Iterator[Producer]:
    p = Producer(kafka_bootstrap, topic_prefix=topic_prefix)
    yield p
    p.close()


async def test_business_initiated_messages_to_opted_out_customers_are_refused(
        sim: BackgroundSimulator, kafka_bootstrap: str, topic_prefix: str, group_id: str,
        redis_client: aioredis.Redis, store: Store, producer: Producer) -> None:
    wrote, away, other = "573006660001", "573006660002", "573006660003"
    await open_window(redis_client, sim, wrote)  # their STOP, a moment ago
    consent = Consent(redis_client, store)
    for user in (wrote, away):
        await consent.record(ConsentChange(PNID, user, datetime.now(UTC) + timedelta(seconds=1), "opted_out",
                                           "keyword", "customer", "stop", f"wamid.stop.{user}"))
    answer = reply(wrote, "Con gusto: abrimos a las 9.")
    notification = reply(wrote, "¡Nueva colección! 👟", n=1, origin="notifier")
    promo = reply(wrote, None, n=2, kind="template", template=TemplateRef(name="promo"))
    for proactive in (notification, promo):
        proactive.payload.in_reply_to = None  # answers no message of the customer
    fallback = reply(away, "¿Pudiste ver las tallas?")  # window closed: only the template could go
    ordinary = reply(other, "¿Pudiste ver las tallas?")  # not opted out, window closed: the template goes
    for ev in (answer, notification, promo, fallback, ordinary):
        await producer.publish(Emit(OUTBOUND, ev))

    s = settings(sim, kafka_bootstrap_servers=kafka_bootstrap, topic_prefix=topic_prefix)
    policies = StaticPolicies(SendPolicy(window_template=TemplateRef(name="seguimiento_atencion")))
    app = build_app(s, redis=redis_client, store=store, producer=producer, registry=CollectorRegistry(),
                    group_id=group_id, policies=policies)
    task = asyncio.create_task(app.worker.run())
    try:
        await app.worker.wait_ready(30)
        out = await asyncio.to_thread(read_topic, kafka_bootstrap, topic_prefix + DELIVERY, expect=5, timeout=30)
        dlq = await asyncio.to_thread(read_topic, kafka_bootstrap, topic_prefix + dlq_name(OUTBOUND), idle=2.0)
    finally:
        await app.worker.stop()
        await task
        await app.aclose()

    events = [r.event() for r in out]
    sent = {e.payload.reply_id: e for e in events if isinstance(e, ReplySent)}
    failed = {e.payload.reply_id: e for e in events if isinstance(e, ReplyFailed)}
    assert set(sent) == {answer.payload.reply_id, ordinary.payload.reply_id}
    assert sent[ordinary.payload.reply_id].payload.template_fallback
    assert set(failed) == {notification.payload.reply_id, promo.payload.reply_id, fallback.payload.reply_id}
    assert {e.payload.reason for e in failed.values()} == {"opted_out"}
    assert dlq == []  # nothing failed: nothing to replay, no DLQ alert
    msgs = httpx.get(f"{sim.url}/_sim/messages").json()["messages"]
    assert Counter((m["to"], m["kind"]) for m in msgs) == {(wrote, "text"): 1, (other, "template"): 1}
    traces = await store.traces_by_correlation(fallback.correlation_id)
    assert [t.outcome for t in traces] == ["opted_out"]
