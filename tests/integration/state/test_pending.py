"""The pending list between guardrails (push) and the AI stage (read, trim), on the real Redis."""

from __future__ import annotations

import redis.asyncio as aioredis

from tests.support import unique
from wapipe.state.pending import PendingMessage, PendingMessages, pending_key


async def test_what_guardrails_pushes_the_ai_stage_reads_once_and_trims(redis_client: aioredis.Redis) -> None:
    conv, pending = f"100000000000001:{unique('u')}", PendingMessages(redis_client, ttl_s=120)
    await pending.push(conv, "wamid.1", "hola", 1000.0)
    await pending.push(conv, "wamid.1", "hola", 1000.0)  # a retried guardrails record
    await pending.push(conv, "wamid.2", "¿envían a Cali?", 1001.5)
    entries, count = await pending.read(conv)
    assert entries == [PendingMessage("wamid.1", "hola", 1000.0), PendingMessage("wamid.2", "¿envían a Cali?", 1001.5)]
    assert count == 2 and 0 < await redis_client.ttl(pending_key(conv)) <= 120

    await pending.push(conv, "wamid.3", "y en negro", 1002.0)  # arrives while the answer is being written
    pipe = redis_client.pipeline(transaction=True)
    pending.trim(pipe, conv, count)
    await pipe.execute()
    assert await pending.read(conv) == ([PendingMessage("wamid.3", "y en negro", 1002.0)], 1)


async def test_an_entry_it_cannot_read_is_skipped_and_counted(redis_client: aioredis.Redis) -> None:
    conv, pending = f"100000000000001:{unique('u')}", PendingMessages(redis_client)
    await redis_client.rpush(pending_key(conv), "not json", '{"text": "no id"}')
    await pending.push(conv, "wamid.9", "hola", 5.0)
    assert await pending.read(conv) == ([PendingMessage("wamid.9", "hola", 5.0)], 3)


async def test_a_withdrawn_message_becomes_a_tombstone_that_keeps_the_count(redis_client: aioredis.Redis) -> None:
    conv, pending = f"100000000000001:{unique('u')}", PendingMessages(redis_client)
    await pending.push(conv, "wamid.1", "hola", 1000.0)
    await pending.push(conv, "wamid.2", "mi cédula es 1020304050", 1001.0)
    entries, count = await pending.read(conv)  # the AI stage read both, and is still answering
    assert await pending.cancel(conv, "wamid.2") == 1  # the customer deleted the second meanwhile
    assert await pending.cancel(conv, "wamid.2") == 0
    await pending.push(conv, "wamid.3", "¿envían a Cali?", 1002.0)
    raw = await redis_client.lrange(pending_key(conv), 0, -1)
    assert b"1020304050" not in b"".join(raw)  # the deleted text is gone from Redis
    assert await pending.read(conv) == ([PendingMessage("wamid.1", "hola", 1000.0),
                                         PendingMessage("wamid.3", "¿envían a Cali?", 1002.0)], 3)
    pipe = redis_client.pipeline(transaction=True)
    pending.trim(pipe, conv, count)  # trims exactly the two entries it read, the tombstone among them
    await pipe.execute()
    assert await pending.read(conv) == ([PendingMessage("wamid.3", "¿envían a Cali?", 1002.0)], 1)
