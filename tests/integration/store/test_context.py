"""The AI service's context: last 6 turns, cached in Redis for 30 min, invalidated on write (real Redis)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from tests.support import unique
from wapipe.redis import connect
from wapipe.store import ContextCache, ConversationStore, Turn, open_store
from wapipe.store.port import Role

T0 = datetime(2026, 3, 1, 15, 0, tzinfo=UTC)


def _turn(tenant: str, user: str, i: int, role: Role = "customer") -> Turn:
    return Turn(tenant, user, T0 + timedelta(seconds=i), role, f"mensaje {i} ¿envíos?")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[ConversationStore]:
    s = open_store(f"sqlite:///{tmp_path}/ctx.db", purge_interval=0)
    await s.migrate()
    yield s
    await s.close()


async def test_miss_fills_the_cache_and_the_next_read_is_a_hit(redis_client: aioredis.Redis,
                                                             store: ConversationStore) -> None:
    ctx, tenant, user = ContextCache(redis_client, store), unique("pn"), unique("u")
    for i in range(8):
        await ctx.append_turn(_turn(tenant, user, i, "customer" if i % 2 == 0 else "assistant"))

    first = await ctx.last_turns(tenant, user)
    assert [t.text for t in first] == [f"mensaje {i} ¿envíos?" for i in range(2, 8)]
    assert await redis_client.exists(ContextCache.key(tenant, user)) == 1

    # A write that bypasses the cache proves the second read is served from Redis
    await store.append_turn(_turn(tenant, user, 99))
    assert await ctx.last_turns(tenant, user) == first
    assert await ctx.last_turns(tenant, user, n=2) == first[-2:]


async def test_a_write_through_the_cache_is_seen_by_the_next_read(redis_client: aioredis.Redis, redis_url: str,
                                                                 store: ConversationStore) -> None:
    ctx, tenant, user = ContextCache(redis_client, store), unique("pn"), unique("u")
    await ctx.append_turn(_turn(tenant, user, 1))
    assert len(await ctx.last_turns(tenant, user)) == 1  # cached now

    await ctx.append_turn(_turn(tenant, user, 2, "assistant"))

    assert [t.role for t in await ctx.last_turns(tenant, user)] == ["customer", "assistant"]
    replica = connect(redis_url)  # another AI replica, its own connection
    assert len(await ContextCache(replica, store).last_turns(tenant, user)) == 2
    await replica.aclose()


async def test_cached_context_lives_30_minutes(redis_client: aioredis.Redis, store: ConversationStore) -> None:
    ctx, tenant, user = ContextCache(redis_client, store), unique("pn"), unique("u")
    await ctx.append_turn(_turn(tenant, user, 1))
    await ctx.last_turns(tenant, user)
    ttl = await redis_client.ttl(ContextCache.key(tenant, user))
    assert 30 * 60 - 5 <= ttl <= 30 * 60


async def test_a_fill_racing_a_write_does_not_leave_a_stale_context(redis_client: aioredis.Redis,
                                                                   store: ConversationStore) -> None:
    """Reader loads from the store, a writer appends and invalidates, then the reader fills the cache late."""
    tenant, user = unique("pn"), unique("u")
    await store.append_turn(_turn(tenant, user, 1))
    loaded, release = asyncio.Event(), asyncio.Event()

    class SlowReads:  # our own port, wrapped: the read completes, then waits before the cache fill
        def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
            return getattr(store, name)

        async def last_turns(self, tenant: str, user: str, n: int = 6) -> list[Turn]:
            turns = await store.last_turns(tenant, user, n)
            loaded.set()
            await release.wait()
            return turns

    slow = ContextCache(redis_client, SlowReads())  # type: ignore[arg-type]
    reader = asyncio.create_task(slow.last_turns(tenant, user))
    await loaded.wait()
    await ContextCache(redis_client, store).append_turn(_turn(tenant, user, 2, "assistant"))
    release.set()
    assert len(await reader) == 1  # that reader saw the world before the write

    assert len(await ContextCache(redis_client, store).last_turns(tenant, user)) == 2


async def test_redis_down_falls_back_to_the_store(store: ConversationStore) -> None:
    dead = aioredis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    tenant, user = unique("pn"), unique("u")
    await store.append_turn(_turn(tenant, user, 1))
    assert len(await ContextCache(dead, store).last_turns(tenant, user)) == 1
    await dead.aclose()


async def test_more_than_six_turns_reads_the_store(redis_client: aioredis.Redis, store: ConversationStore) -> None:
    ctx, tenant, user = ContextCache(redis_client, store), unique("pn"), unique("u")
    for i in range(10):
        await ctx.append_turn(_turn(tenant, user, i))
    assert len(await ctx.last_turns(tenant, user, n=10)) == 10
