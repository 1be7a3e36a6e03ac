"""Echoes from the WhatsApp Business app on the real broker and Redis, guardrails and the notifier running: the
echo becomes a human turn and HUMAN_ACTIVE, and the customer's next message is not answered by the bot but relayed
to the shop's people as in shadow mode after a handoff."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from schemas import topics
from schemas.envelope import Envelope, Trace, conversation_key, derive_id
from schemas.events import BusinessEchoReceived, BusinessEchoReceivedPayload, Recipient
from services.guardrails.app import build_app as build_guardrails
from services.guardrails.config import GuardrailsSettings
from services.guardrails.echoes import ACTOR
from services.notifier.app import build_app as build_notifier
from services.notifier.config import NotifierSettings
from tests.media_stage import media_stage
from tests.support import read_topic, unique
from tests.unit.notifier.events import INTERNAL, message
from wapipe.runtime.producer import Producer
from wapipe.runtime.types import Emit
from wapipe.state.sent import SentMessages
from wapipe.state.shadow import ShadowMode
from wapipe.store import Store, TraceRecord, open_store
from wapipe.tenants import TenantRegistry

TENANTS = Path(__file__).parents[3] / "config" / "tenants"
TENANT = "100000000000001"
T = TypeVar("T")


def echo(wamid: str, text: str, customer: str, at: datetime | None = None) -> BusinessEchoReceived:
    at = at or datetime.now(UTC).replace(microsecond=0)  # Meta's timestamps: whole seconds
    return BusinessEchoReceived(
        event_id=derive_id("echo", wamid), occurred_at=at, tenant=TENANT,
        conversation=conversation_key(TENANT, customer), correlation_id=wamid, trace=Trace(received_at=at),
        payload=BusinessEchoReceivedPayload(message_id=wamid, to=Recipient(wa_id=customer),
                                            business_number="15550783881", timestamp=at, message_type="text",
                                            text=text))


async def eventually(read: Callable[[], Awaitable[T]], ok: Callable[[T], bool], timeout: float = 60) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = await read()
        if ok(value) or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.1)


@dataclass
class Running:
    producer: Producer
    store: Store
    redis: aioredis.Redis
    bootstrap: str
    prefix: str

    async def send(self, *events: Envelope) -> None:
        for e in events:
            await self.producer.publish(Emit(topics.INBOUND, e))

    async def outcomes(self, wamid: str) -> list[str]:
        traces: list[TraceRecord] = await self.store.traces_by_correlation(wamid)
        return [t.outcome for t in traces]

    def read(self, topic: str, expect: int | None = None, idle: float = 2.0) -> list:  # type: ignore[type-arg]
        return read_topic(self.bootstrap, self.prefix + topic, expect=expect, idle=idle)


@pytest.fixture
async def running(kafka_bootstrap: str, topic_prefix: str, redis_url: str, redis_client: aioredis.Redis,
                  tmp_path: Path) -> AsyncIterator[Running]:
    conn = {"kafka_bootstrap_servers": kafka_bootstrap, "topic_prefix": topic_prefix, "redis_url": redis_url,
            "tenants_dir": str(TENANTS)}
    tenants = TenantRegistry(TENANTS)
    async with AsyncExitStack() as stack:
        store = open_store(f"sqlite:///{tmp_path}/wapipe.db")
        await store.migrate()
        stack.push_async_callback(store.close)
        producer = Producer(kafka_bootstrap, topic_prefix=topic_prefix)
        stack.callback(producer.close)
        guardrails = build_guardrails(GuardrailsSettings(**conn), redis=redis_client, store=store, producer=producer,
                                      registry=CollectorRegistry(), tenants=tenants, group_id=unique("g"))
        notifier = build_notifier(NotifierSettings(**conn, admin_token=SecretStr("integration-token-0123456789ab")),
                                  redis=redis_client, store=store, producer=producer, tenants=tenants,
                                  registry=CollectorRegistry(), group_id=unique("g"))
        media = media_stage(kafka_bootstrap=kafka_bootstrap, topic_prefix=topic_prefix, producer=producer,
                            folder=tmp_path, group_id=unique("g"))
        stack.push_async_callback(media.close)
        workers = [media.worker, guardrails.worker, notifier.worker]
        tasks = [asyncio.create_task(w.run()) for w in workers]

        async def stop() -> None:
            for w in workers:
                await w.stop()
            await asyncio.gather(*tasks)

        stack.push_async_callback(stop)
        await asyncio.gather(*(w.wait_ready(60) for w in workers))
        yield Running(producer, store, redis_client, kafka_bootstrap, topic_prefix)


async def test_an_echo_silences_the_bot_and_the_customer_is_relayed_to_the_people(running: Running) -> None:
    customer = "573000000701"
    conv = conversation_key(TENANT, customer)
    await running.send(echo("wamid.ECHO1", "Hola, soy Laura de la tienda. ¿Qué talla buscas?", customer))
    shadow = ShadowMode(running.redis)
    assert await eventually(lambda: shadow.is_active(conv), bool)
    value = json.loads(await running.redis.get(shadow.key(conv)))
    assert (value["state"], value["actor"]) == ("HUMAN_ACTIVE", ACTOR)
    assert 12 * 3600 - 120 <= await shadow.ttl(conv) <= 12 * 3600  # the operator API's TTL

    later = datetime.now(UTC) + timedelta(seconds=2)  # the customer's Meta timestamp: a second after the echo's
    await running.send(message("wamid.CUST1", "la 38, ¿a qué hora abren?", customer, at=later))
    assert await eventually(lambda: running.outcomes("wamid.CUST1"), lambda o: o == ["shadow"]) == ["shadow"]
    turns = await running.store.last_turns(TENANT, customer, 10)
    assert [(t.role, t.text) for t in turns] == [("human", "Hola, soy Laura de la tienda. ¿Qué talla buscas?"),
                                                 ("customer", "la 38, ¿a qué hora abren?")]
    assert await running.outcomes("wamid.ECHO1") == ["echo"]
    outbound = await asyncio.to_thread(running.read, topics.OUTBOUND, 1)
    # Nothing to the customer; the customer's words to the shop's internal number, as in shadow mode.
    assert [r.event().payload.to.wa_id for r in outbound] == [INTERNAL]
    assert "la 38" in (outbound[0].event().payload.text or "")
    assert await asyncio.to_thread(running.read, topics.AI_REQUESTS, None, 1.0) == []


async def test_an_echo_and_the_next_message_on_one_key_are_decided_in_order_and_redelivery_is_dropped(
        running: Running) -> None:
    customer = "573000000702"
    at = datetime.now(UTC).replace(microsecond=0)
    first = echo("wamid.ECHO2", "Ya te separé las botas", customer, at)
    # produced back to back: the key orders them, whatever the timing
    await running.send(first, message("wamid.CUST2", "¿a qué hora abren?", customer, at=at + timedelta(seconds=2)),
                       first)
    assert await eventually(lambda: running.outcomes("wamid.CUST2"), lambda o: o == ["shadow"]) == ["shadow"]
    assert await eventually(lambda: running.outcomes("wamid.ECHO2"),
                            lambda o: sorted(o) == ["duplicate", "echo"]) == ["echo", "duplicate"]
    turns = await running.store.last_turns(TENANT, customer, 10)
    assert [t.role for t in turns] == ["human", "customer"]  # the redelivered echo wrote nothing twice
    handoffs = await running.store.handoffs(TENANT, customer)
    assert [(h.action, h.actor) for h in handoffs if h.actor == ACTOR] == [("taken", ACTOR), ("reply", ACTOR)]


async def test_an_echo_of_a_message_wapipe_sent_leaves_the_bot_in_charge(running: Running) -> None:
    customer = "573000000703"
    conv = conversation_key(TENANT, customer)
    await SentMessages(running.redis).remember("wamid.OURS3", "send-id-of-the-greeting")  # as the sender records it
    await running.send(echo("wamid.OURS3", "¡Hola! Bienvenida a la tienda", customer),
                       message("wamid.CUST3", "¿a qué hora abren?", customer))
    outbound = await asyncio.to_thread(running.read, topics.OUTBOUND, 1)
    assert [(r.event().payload.to.wa_id, r.event().payload.route) for r in outbound] == [(customer, "reply")]
    assert await running.outcomes("wamid.OURS3") == ["echo_ours"]  # decided before the message after it
    assert not await ShadowMode(running.redis).is_active(conv)
