"""Whose media an object is: a Redis set per conversation of the object keys its customer sent.

Content keys (`{tenant}/{sha256}`) say nothing of who sent the bytes, so the media stage records each stored key
under the sender's conversation (`wapipe:media:owners:{conversation}`), kept as long as the objects (30 days,
refreshed by every new one). `wapipe privacy export` lists these keys and erasure deletes their objects; the set
itself is one of the customer's Redis keys (named after the conversation), exported and erased with the rest.
"""

from __future__ import annotations

from collections.abc import Iterable

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from wapipe.objectstore.port import RETENTION
from wapipe.redis import KEY_PREFIX


class OwnerIndexUnavailable(RuntimeError):
    """Redis could not record whose media a key is."""


def owner_key(conversation: str) -> str:
    return f"{KEY_PREFIX}media:owners:{conversation}"


class MediaOwners:
    def __init__(self, redis: aioredis.Redis, ttl_s: int = int(RETENTION.total_seconds())) -> None:
        self.redis, self.ttl_s = redis, ttl_s

    async def add(self, conversation: str, key: str) -> None:
        """Idempotent: a retried or replayed message adds nothing new."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.sadd(owner_key(conversation), key)
        pipe.expire(owner_key(conversation), self.ttl_s)
        try:
            await pipe.execute()
        except (RedisError, OSError) as e:
            raise OwnerIndexUnavailable(str(e)) from e

    async def keys(self, conversations: Iterable[str]) -> list[str]:
        names = [owner_key(c) for c in conversations]
        if not names:
            return []
        members = await self.redis.sunion(names)
        return sorted(m.decode() if isinstance(m, bytes) else str(m) for m in members)
