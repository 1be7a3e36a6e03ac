"""Consent on the real Redis and the SQLite store: the store is the truth, Redis caches it for the sender."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from schemas.envelope import conversation_key, parse_conversation_key
from wapipe.state.consent import Consent, ConsentState, consent_key
from wapipe.store import ConsentChange, Store, open_store

TENANT, USER = "100000000000001", "573001230000"
CONV = conversation_key(TENANT, USER)
AT = datetime(2026, 11, 18, 20, 0, tzinfo=UTC)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = open_store(f"sqlite:///{tmp_path}/wapipe.db")
    await s.migrate()
    try:
        yield s
    finally:
        await s.close()


def change(status: str, at: datetime, mid: str) -> ConsentChange:
    return ConsentChange(TENANT, USER, at, status, "keyword", "customer", "stop", mid)  # type: ignore[arg-type]


async def test_a_customer_who_never_chose_is_opted_in_and_that_is_cached(redis_client: aioredis.Redis,
                                                                         store: Store) -> None:
    consent = Consent(redis_client, store)
    assert await consent.state(TENANT, USER) == ConsentState("opted_in", None)
    assert ConsentState.decode(await redis_client.get(consent_key(CONV))) == ConsentState("opted_in", None)
    assert 0 < await redis_client.ttl(consent_key(CONV)) <= 24 * 3600


async def test_record_writes_the_store_then_the_cache(redis_client: aioredis.Redis, store: Store) -> None:
    consent = Consent(redis_client, store)
    assert not await consent.opted_out(TENANT, USER)  # cached as opted_in first
    await consent.record(change("opted_out", AT, "wamid.1"))

    assert await consent.opted_out(TENANT, USER)
    assert ConsentState.decode(await redis_client.get(consent_key(CONV))) == ConsentState("opted_out", AT)
    assert (await store.consent(TENANT, USER)).status == "opted_out"  # type: ignore[union-attr]

    await redis_client.delete(consent_key(CONV))  # evicted: the store still knows
    assert await Consent(redis_client, store).opted_out(TENANT, USER)


async def test_an_older_change_arriving_late_does_not_win(redis_client: aioredis.Redis, store: Store) -> None:
    consent = Consent(redis_client, store)
    await consent.record(change("opted_in", AT + timedelta(minutes=5), "wamid.2"))
    await consent.record(change("opted_out", AT, "wamid.1"))  # older, delivered later
    assert await consent.state(TENANT, USER) == ConsentState("opted_in", AT + timedelta(minutes=5))
    assert [c.status for c in await store.consent_history(TENANT, USER)] == ["opted_out", "opted_in"]


async def test_forget_drops_only_the_cache(redis_client: aioredis.Redis, store: Store) -> None:
    consent = Consent(redis_client, store)
    await consent.record(change("opted_out", AT, "wamid.1"))
    await consent.forget(CONV)
    assert await redis_client.exists(consent_key(CONV)) == 0
    assert await consent.opted_out(TENANT, USER)


async def test_an_unreadable_cached_value_is_read_again_from_the_store(redis_client: aioredis.Redis,
                                                                       store: Store) -> None:
    await store.record_consent(change("opted_out", AT, "wamid.1"))
    await redis_client.set(consent_key(CONV), "opted_out-v0")  # written by something we do not understand
    assert await Consent(redis_client, store).state(TENANT, USER) == ConsentState("opted_out", AT)


async def test_consent_follows_the_customer_to_their_new_key(redis_client: aioredis.Redis, store: Store) -> None:
    new_user = "CO.1297408873021955"
    consent = Consent(redis_client, store)
    await consent.record(change("opted_out", AT, "wamid.1"))
    source, target = parse_conversation_key(CONV), parse_conversation_key(conversation_key(TENANT, new_user))

    await consent.move(source, target)
    await consent.move(source, target)  # a retried record moves nothing twice

    assert await consent.opted_out(TENANT, new_user)
    assert [c.message_id for c in await store.consent_history(TENANT, new_user)] == ["wamid.1"]
    # the old id may become someone else (a recycled number): it is no longer opted out, and says why
    old = await store.consent_history(TENANT, USER)
    assert [(c.status, c.source) for c in old] == [("opted_out", "keyword"), ("opted_in", "identity_moved")]
    assert not await consent.opted_out(TENANT, USER)
