"""Guardrails on the runtime, against the real broker and Redis: inbound records in, events on the right topics."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry

from schemas import topics
from schemas.events import MessageReceived
from services.guardrails.app import build_app
from services.guardrails.config import GuardrailsSettings
from tests.fakes.store import MemoryStore
from tests.support import read_topic
from tests.unit.guardrails.messages import inbound
from wapipe.runtime.producer import Producer
from wapipe.runtime.types import Emit
from wapipe.state.shadow import ShadowMode

TENANTS = Path(__file__).parents[3] / "config" / "tenants"


@asynccontextmanager
async def running_guardrails(bootstrap: str, prefix: str, group: str, redis_url: str,
                             redis: aioredis.Redis) -> AsyncIterator[Producer]:
    s = GuardrailsSettings(kafka_bootstrap_servers=bootstrap, topic_prefix=prefix, redis_url=redis_url,
                           tenants_dir=str(TENANTS))
    producer = Producer(bootstrap, topic_prefix=prefix)
    app = build_app(s, redis=redis, store=MemoryStore(), producer=producer, registry=CollectorRegistry(),
                    group_id=group)
    task = asyncio.create_task(app.worker.run())
    try:
        await app.worker.wait_ready(30)
        yield producer
    finally:
        await app.worker.stop()
        await task
        producer.close()


async def _send(producer: Producer, *events: MessageReceived) -> None:
    for e in events:
        await producer.publish(Emit(topics.INBOUND_UNDERSTOOD, e))


def _by_wamid(records: list, wamid: str) -> list:  # type: ignore[type-arg]
    return [r for r in records if r.event().correlation_id == wamid]


async def test_each_route_produces_the_right_event_on_the_right_topic(
        kafka_bootstrap: str, topic_prefix: str, group_id: str, redis_url: str, redis_client: aioredis.Redis) -> None:
    msgs = {
        "reply": inbound("q horario tienen", wamid="wamid.W1", wa_id="573000000001"),
        "refuse": inbound("quien gano el partido de nacional", wamid="wamid.W2", wa_id="573000000002"),
        "clarify": inbound("asdfgh", wamid="wamid.W3", wa_id="573000000003"),
        "ai": inbound("tienen botas de cuero en talla 40?", wamid="wamid.W4", wa_id="573000000004"),
        "handoff": inbound("me pasas con un asesor", wamid="wamid.W5", wa_id="573000000005"),
    }
    async with running_guardrails(kafka_bootstrap, topic_prefix, group_id, redis_url, redis_client) as producer:
        await _send(producer, *msgs.values())
        outbound = await asyncio.to_thread(read_topic, kafka_bootstrap, topic_prefix + topics.OUTBOUND, expect=3)
        ai = await asyncio.to_thread(read_topic, kafka_bootstrap, topic_prefix + topics.AI_REQUESTS, expect=1)
        handoff = await asyncio.to_thread(read_topic, kafka_bootstrap, topic_prefix + topics.HANDOFF, expect=1)

    for route in ("reply", "refuse", "clarify"):
        [rec] = _by_wamid(outbound, msgs[route].correlation_id)
        ev = rec.event()
        assert ev.type == "ReplyRequested" and ev.payload.route == route and ev.payload.text
        assert rec.key == msgs[route].conversation
    assert [r.event().type for r in ai] == ["AnswerRequested"]
    assert ai[0].event().correlation_id == "wamid.W4"
    assert [r.event().payload.reason for r in handoff] == ["humano"]
    assert [r.event().type for r in handoff] == ["HandoffRequested"]
    assert _by_wamid(outbound, "wamid.W5") == []  # the notifier answers the customer of a handoff


async def test_a_message_delivered_three_times_is_answered_once(
        kafka_bootstrap: str, topic_prefix: str, group_id: str, redis_url: str, redis_client: aioredis.Redis) -> None:
    event = inbound("reciben nequi?", wamid="wamid.DUP")
    async with running_guardrails(kafka_bootstrap, topic_prefix, group_id, redis_url, redis_client) as producer:
        await _send(producer, event, event, event)
        outbound = await asyncio.to_thread(read_topic, kafka_bootstrap, topic_prefix + topics.OUTBOUND, expect=1,
                                           idle=3.0)
    assert len(outbound) == 1 and "Nequi" in (outbound[0].event().payload.text or "")


async def test_25_messages_from_one_customer_route_20_plus_one_notice(
        kafka_bootstrap: str, topic_prefix: str, group_id: str, redis_url: str, redis_client: aioredis.Redis) -> None:
    events = [inbound("buenas", wamid=f"wamid.FLOOD{i}") for i in range(25)]
    async with running_guardrails(kafka_bootstrap, topic_prefix, group_id, redis_url, redis_client) as producer:
        await _send(producer, *events)
        outbound = await asyncio.to_thread(read_topic, kafka_bootstrap, topic_prefix + topics.OUTBOUND, expect=21,
                                           idle=3.0)
    routes = [r.event().payload.route for r in outbound]
    assert routes.count("reply") == 20 and routes.count("flood_notice") == 1 and len(routes) == 21


async def test_human_active_conversation_gets_no_bot_reply(
        kafka_bootstrap: str, topic_prefix: str, group_id: str, redis_url: str, redis_client: aioredis.Redis) -> None:
    first = inbound("quiero poner una queja", wamid="wamid.S1")
    second = inbound("hola? alguien? a que hora abren?", wamid="wamid.S2")
    async with running_guardrails(kafka_bootstrap, topic_prefix, group_id, redis_url, redis_client) as producer:
        await _send(producer, first, second)
        handoff = await asyncio.to_thread(read_topic, kafka_bootstrap, topic_prefix + topics.HANDOFF, expect=1,
                                          idle=2.0)
        outbound = await asyncio.to_thread(read_topic, kafka_bootstrap, topic_prefix + topics.OUTBOUND, idle=2.0)
        ai = await asyncio.to_thread(read_topic, kafka_bootstrap, topic_prefix + topics.AI_REQUESTS, idle=1.0)
    assert [r.event().payload.reason for r in handoff] == ["queja"]
    assert outbound == [] and ai == []  # the bot answered neither message
    assert 12 * 3600 - 60 <= await ShadowMode(redis_client).ttl(first.conversation) <= 12 * 3600
