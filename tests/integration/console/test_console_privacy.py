"""A customer's erasure finds every console key of theirs (the inbox line, their recent messages, the unread
mark, the ref, the index entries) and none of another customer's."""

from __future__ import annotations

from datetime import UTC, datetime

import redis.asyncio as aioredis

from schemas.envelope import conversation_key
from services.console.inbox import InboxChange
from services.console.store_redis import INDEX, RedisInbox, ref_of, tenant_index
from wapipe.privacy import redis_keys

SHOP = "100000000000001"


async def test_the_console_keys_of_a_customer_are_found_and_deleted(redis_client: aioredis.Redis) -> None:
    inbox = RedisInbox(redis_client)
    mine, theirs = conversation_key(SHOP, "573001112233"), conversation_key(SHOP, "573009998877")
    now = datetime.now(UTC).timestamp()
    for conv, wamid in ((mine, "wamid.MINE"), (theirs, "wamid.THEIRS")):
        await inbox.apply(InboxChange(SHOP, conv, "message", now, "customer", "hola", "Ana", wamid))

    found = await redis_keys.find(redis_client, [mine], ["wamid.MINE"])
    assert set(found.keys) == {f"wapipe:console:conv:{mine}", f"wapipe:console:recent:{mine}",
                               f"wapipe:console:ref:{ref_of(mine)}", f"wapipe:console:seen:{SHOP}:wamid.MINE"}
    assert found.index_entries == ((INDEX, mine), (tenant_index(SHOP), mine))
    await redis_keys.delete(redis_client, found)
    assert await inbox.recent() == [theirs] == await inbox.recent(frozenset({SHOP}))
    assert await inbox.resolve(ref_of(mine)) is None
    assert (await inbox.summary(theirs)).profile_name == "Ana"
