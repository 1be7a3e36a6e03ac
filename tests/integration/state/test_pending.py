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
