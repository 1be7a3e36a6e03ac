"""The console's inbox index in a real Redis: what each change writes, a redelivered message counted once, and
every change announced on the tenant's live channel in the same round trip."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import redis.asyncio as aioredis

from schemas.envelope import conversation_key
from services.console.inbox import InboxChange
from services.console.store_redis import RedisInbox, live_channel, ref_of

SHOP = "100000000000001"
CONV = conversation_key(SHOP, "573001112233")


async def test_changes_are_indexed_counted_once_and_announced(redis_client: aioredis.Redis) -> None:
    inbox = RedisInbox(redis_client)
    now = datetime.now(UTC).timestamp()
    pubsub = redis_client.pubsub()
    await pubsub.subscribe(live_channel(SHOP))
    try:
        message = InboxChange(SHOP, CONV, "message", now, "customer", "¿tienen tenis talla 40?", "Ana", "wamid.M1")
        await inbox.apply(message)
        await inbox.apply(message)  # the broker redelivered it
        await inbox.apply(InboxChange(SHOP, CONV, "echo", now + 1, "human", "Sí, en negro", message_id="wamid.E1",
                                      who="WhatsApp Business app"))
        await inbox.apply(InboxChange(SHOP, CONV, "handoff", now + 2, text="pidió una persona"))
        await inbox.apply(InboxChange(SHOP, CONV, "reply", now + 3, "assistant", "Te escribe una persona."))

        s = await inbox.summary(CONV)
        assert (s.profile_name, s.last_text, s.last_role, s.last_at) == ("Ana", "Te escribe una persona.",
                                                                         "assistant", now + 3)
        assert (s.last_customer, s.unread) == ("¿tienen tenis talla 40?", 1)  # the echo is nothing unread
        lines = [json.loads(x) for x in await redis_client.lrange(f"wapipe:console:recent:{CONV}", 0, -1)]
        assert [(x["id"], x["role"], x["who"]) for x in lines] == [
            ("wamid.E1", "human", "WhatsApp Business app"), ("wamid.M1", "customer", "")]
        assert await inbox.recent() == [CONV] == await inbox.recent(frozenset({SHOP}))
        assert await inbox.resolve(ref_of(CONV)) == CONV

        kinds = []
        async with asyncio.timeout(30):
            while len(kinds) < 5:
                got = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                if got is not None:
                    doc = json.loads(got["data"])
                    assert doc["ref"] == ref_of(CONV)
                    kinds.append(doc["kind"])
        assert kinds == ["message", "message", "echo", "handoff", "reply"]
    finally:
        await pubsub.aclose()


async def test_an_older_change_does_not_move_the_conversation_back_in_the_index(
        redis_client: aioredis.Redis) -> None:
    inbox = RedisInbox(redis_client)
    now = datetime.now(UTC).timestamp()
    await inbox.apply(InboxChange(SHOP, CONV, "message", now, "customer", "hola", "Ana", "wamid.M2"))
    await inbox.apply(InboxChange(SHOP, CONV, "failed", now - 60, text="131026"))
    assert await redis_client.zscore("wapipe:console:index", CONV) == now
