"""Consent keywords through the guardrails handler on the real Redis adapters and the SQLite store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry

from services.guardrails.app import build_handler
from services.guardrails.config import GuardrailsSettings
from services.guardrails.handlers import GuardrailsHandler
from tests.unit.guardrails.messages import OPEN_AT, TENANT, inbound, meta
from wapipe.state.consent import Consent, ConsentState, consent_key
from wapipe.store import Store, open_store
from wapipe.tenants import TenantRegistry

TENANTS = Path(__file__).parents[3] / "config" / "tenants"
WA_ID = "573004440000"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = open_store(f"sqlite:///{tmp_path}/wapipe.db")
    await s.migrate()
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture
def handler(redis_client: aioredis.Redis, store: Store) -> GuardrailsHandler:
    return build_handler(GuardrailsSettings(), redis=redis_client, store=store, tenants=TenantRegistry(TENANTS),
                         registry=CollectorRegistry())


async def test_stop_then_start_keeps_the_history_and_the_senders_cache(
        handler: GuardrailsHandler, redis_client: aioredis.Redis, store: Store) -> None:
    stop = await handler(inbound("No me escriban más, quiero darme de baja", wamid="wamid.CS1", wa_id=WA_ID),
                         meta(0))
    assert [e.event.payload.route for e in stop] == ["consent"]
    conv = stop[0].event.conversation
    assert ConsentState.decode(await redis_client.get(consent_key(conv))).status == "opted_out"  # type: ignore[union-attr]
    assert await Consent(redis_client, store).opted_out(TENANT, WA_ID)

    repeated = await handler(inbound("STOP", wamid="wamid.CS2", wa_id=WA_ID, at=OPEN_AT + timedelta(seconds=30)),
                             meta(1))
    assert repeated == []

    start = await handler(inbound("START", wamid="wamid.CS3", wa_id=WA_ID, at=OPEN_AT + timedelta(hours=2)),
                          meta(2))
    assert [e.event.payload.route for e in start] == ["consent"]
    assert ConsentState.decode(await redis_client.get(consent_key(conv))).status == "opted_in"  # type: ignore[union-attr]
    history = await store.consent_history(TENANT, WA_ID)
    assert [(c.status, c.source, c.detail, c.message_id) for c in history] == [
        ("opted_out", "keyword", "darme de baja", "wamid.CS1"),
        ("opted_in", "keyword", "start", "wamid.CS3")]
    assert [t.outcome for t in await store.traces_by_correlation("wamid.CS2")] == ["consent_unchanged"]
