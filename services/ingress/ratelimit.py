"""A sliding one-minute window per key in Redis (a sorted set of request times), shared by every replica."""

from __future__ import annotations

import math
import time
import uuid

import redis.asyncio as aioredis

from wapipe.redis import KEY_PREFIX

WINDOW_S = 60.0


async def hit(redis: aioredis.Redis, scope: str, key: str, limit: int, now: float | None = None) -> float | None:
    """Count one request; None when allowed, else the seconds until a slot frees up (for Retry-After).

    Refused requests are not counted, so a client that keeps retrying is let in as soon as the window allows.
    """
    now = time.time() if now is None else now
    rkey = f"{KEY_PREFIX}rate:{scope}:{key}"
    member = f"{now:.6f}:{uuid.uuid4().hex[:8]}"
    pipe = redis.pipeline(transaction=True)
    pipe.zremrangebyscore(rkey, 0, now - WINDOW_S)
    pipe.zadd(rkey, {member: now})
    pipe.zcard(rkey)
    pipe.zrange(rkey, 0, 0, withscores=True)
    pipe.expire(rkey, int(WINDOW_S) + 1)
    _, _, count, oldest, _ = await pipe.execute()
    if int(count) <= limit:
        return None
    await redis.zrem(rkey, member)
    first = float(oldest[0][1]) if oldest else now
    return float(max(1, math.ceil(first + WINDOW_S - now)))
