"""The guardrails handler on the real Redis adapters and the SQLite store: dedupe, shadow TTL, flood, pending."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry

from schemas import topics
from services.guardrails.app import build_handler
from services.guardrails.config import GuardrailsSettings
from services.guardrails.handlers import GuardrailsHandler
from tests.unit.guardrails.messages import inbound, meta
from wapipe.state.pending import PendingMessages, pending_key
from wapipe.state.shadow import ShadowMode
from wapipe.state.window import ServiceWindow
from wapipe.store import ConversationStore, open_store
from wapipe.tenants import TenantRegistry

TENANTS = Path(__file__).parents[3] / "config" / "tenants"


@pytest.fixture
async def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    s = open_store(f"sqlite:///{tmp_path}/wapipe.db")
    await s.migrate()
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture
def handler(redis_client: aioredis.Redis, store: ConversationStore) -> GuardrailsHandler:
    return build_handler(GuardrailsSettings(), redis=redis_client, store=store, tenants=TenantRegistry(TENANTS),
                         registry=CollectorRegistry())


async def test_three_deliveries_make_one_decision(handler: GuardrailsHandler, store: ConversationStore) -> None:
    event = inbound("a que hora abren?", wamid="wamid.TRIPLE")
    outs = [await handler(event, meta(offset=i)) for i in range(3)]
    assert [len(o) for o in outs] == [1, 0, 0]
    traces = await store.traces_by_correlation("wamid.TRIPLE")
    assert [t.outcome for t in traces] == ["duplicate", "duplicate"]


async def test_a_retried_record_is_decided_again_not_dropped(handler: GuardrailsHandler) -> None:
    event = inbound("hola", wamid="wamid.RETRY")
    first = await handler(event, meta(offset=3))
    again = await handler(event, meta(offset=3, attempt=2))
    assert [e.event.event_id for e in first] == [e.event.event_id for e in again]


async def test_handoff_sets_human_active_for_12_hours_and_silences_the_bot(
        handler: GuardrailsHandler, redis_client: aioredis.Redis, store: ConversationStore) -> None:
    out = await handler(inbound("quiero hablar con una persona", wamid="wamid.H1"), meta(0))
    assert [e.topic for e in out] == [topics.HANDOFF]
    conv = out[0].event.conversation
    ttl = await ShadowMode(redis_client).ttl(conv)
    assert 12 * 3600 - 5 <= ttl <= 12 * 3600
    assert await handler(inbound("tienen tenis talla 40?", wamid="wamid.H2"), meta(1)) == []
    assert (await store.traces_by_correlation("wamid.H2"))[0].outcome == "shadow"
    assert await ServiceWindow(redis_client).last_inbound(conv) is not None


async def test_25_messages_in_a_minute_route_20_and_one_notice(handler: GuardrailsHandler) -> None:
    outs = [await handler(inbound("buenas", wamid=f"wamid.FL{i}"), meta(i)) for i in range(25)]
    assert all(o and o[0].event.payload.route == "reply" for o in outs[:20])
    excess = [e for o in outs[20:] for e in o]
    assert len(excess) == 1 and excess[0].event.payload.route == "flood_notice"


async def test_ai_route_queues_the_message_for_burst_coalescing(handler: GuardrailsHandler,
                                                                redis_client: aioredis.Redis) -> None:
    event = inbound("tienen botas de cuero?", wamid="wamid.AI1")
    await handler(event, meta(0))
    await handler(event, meta(0, attempt=2))  # a retry does not queue it twice
    entries, count = await PendingMessages(redis_client).read(event.conversation)
    assert [e.message_id for e in entries] == ["wamid.AI1"] and count == 1
    assert 0 < await redis_client.ttl(pending_key(event.conversation)) <= 300
