"""Shadow mode's own reading of what it wrote, on the real Redis: since, and listing by tenant."""

from __future__ import annotations

import time

import redis.asyncio as aioredis

from tests.support import unique
from wapipe.redis import KEY_PREFIX
from wapipe.state.shadow import ShadowMode


async def test_since_is_when_it_became_active_and_none_when_the_bot_has_it(redis_client: aioredis.Redis) -> None:
    shadow, conv = ShadowMode(redis_client), f"100000000000001:{unique('u')}"
    assert await shadow.since(conv) is None
    before = time.time()
    await shadow.activate(conv, "humano", "guardrails", 60)
    since = await shadow.since(conv)
    assert since is not None and before <= since <= time.time()
    await redis_client.set(shadow.key(conv), "not json", ex=60)
    assert await shadow.since(conv) == 0.0  # active, in a shape it cannot read: active all along


async def test_listing_by_tenant_skips_what_is_not_a_conversation_key(redis_client: aioredis.Redis) -> None:
    shadow = ShadowMode(redis_client)
    mine, other = f"100000000000001:{unique('u')}", f"100000000000002:{unique('u')}"
    for conv in (mine, other):
        await shadow.activate(conv, "humano", "guardrails", 60)
    await redis_client.zadd(f"{KEY_PREFIX}shadow:index", {"573001112233": time.time() + 60})  # no tenant part
    await redis_client.set(shadow.key("573001112233"), '{"state": "HUMAN_ACTIVE"}', ex=60)
    assert [a.conversation for a in await shadow.active("100000000000001")] == [mine]
    assert sorted(a.conversation for a in await shadow.active()) == sorted([mine, other])
