"""An echo from the WhatsApp Business app is a turn like any other: `wapipe privacy export` hands it to the customer
and `erase` deletes it, with the handoff audit and the Redis keys it left (real Redis, the SQLite store, the
guardrails handler as wired in production)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry

from schemas.envelope import Trace, conversation_key, derive_id
from schemas.events import BusinessEchoReceived, BusinessEchoReceivedPayload, Recipient
from services.guardrails.app import build_handler
from services.guardrails.config import GuardrailsSettings
from services.guardrails.echoes import ACTOR
from tests.unit.guardrails.messages import inbound, meta
from wapipe.privacy import Privacy, resolve_subject
from wapipe.store import Store, open_store
from wapipe.tenants import TenantRegistry

TENANTS = Path(__file__).parents[3] / "config" / "tenants"
PNID = "100000000000001"
CUSTOMER = "573005550000"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = open_store(f"sqlite:///{tmp_path}/wapipe.db")
    await s.migrate()
    try:
        yield s
    finally:
        await s.close()


async def test_echo_turns_are_exported_and_erased(redis_client: aioredis.Redis, store: Store, redis_url: str) -> None:
    tenants = TenantRegistry(TENANTS)
    handler = build_handler(GuardrailsSettings(redis_url=redis_url, tenants_dir=str(TENANTS)), redis=redis_client,
                            store=store, tenants=tenants, registry=CollectorRegistry())
    at = datetime.now(UTC).replace(microsecond=0)
    wamid = f"wamid.ECHO{CUSTOMER}"
    await handler(inbound("hola", wa_id=CUSTOMER, wamid=f"wamid.IN{CUSTOMER}", at=at), meta())
    await handler(BusinessEchoReceived(
        event_id=derive_id("echo", wamid), occurred_at=at, tenant=PNID, conversation=conversation_key(PNID, CUSTOMER),
        correlation_id=wamid, trace=Trace(received_at=at),
        payload=BusinessEchoReceivedPayload(message_id=wamid, to=Recipient(wa_id=CUSTOMER), timestamp=at,
                                            message_type="text", text="Hola, soy Laura, te escribo desde la tienda")),
        meta(1))
    subject = resolve_subject(tenants, "demo", CUSTOMER)
    privacy = Privacy(store, redis_client)

    doc = await privacy.export(subject, "dpo")
    assert ("human", "Hola, soy Laura, te escribo desde la tienda") in [(t["role"], t["text"]) for t in doc["turns"]]
    assert {(h["action"], h["actor"]) for h in doc["handoffs"]} >= {("taken", ACTOR), ("reply", ACTOR)}
    assert "echo" in [t["outcome"] for t in doc["traces"]]
    exported = {r["key"] for r in doc["redis"]}
    assert f"wapipe:dedupe:{PNID}:{wamid}" in exported and f"wapipe:shadow:{subject.conversations[0]}" in exported

    counts = (await privacy.erase(subject, "dpo"))["counts"]
    assert counts["turns"] >= 2 and counts["handoffs"] >= 2
    assert await store.last_turns(PNID, CUSTOMER, 50) == [] and await store.handoffs(PNID, CUSTOMER) == []
    assert not await redis_client.exists(f"wapipe:dedupe:{PNID}:{wamid}")
