"""A fixed one-minute window per key in Redis, shared by every ingress replica."""

from __future__ import annotations

import math
import time

import redis.asyncio as aioredis

from wapipe.redis import KEY_PREFIX

WINDOW_S = 60


async def hit(redis: aioredis.Redis, scope: str, key: str, limit: int, now: float | None = None) -> float | None:
    """Count one request; None when allowed, else the seconds until the window resets (for Retry-After)."""
    now = time.time() if now is None else now
    window = int(now // WINDOW_S)
    rkey = f"{KEY_PREFIX}rate:{scope}:{key}:{window}"
    pipe = redis.pipeline()
    pipe.incr(rkey)
    pipe.expire(rkey, WINDOW_S + 5)
    count, _ = await pipe.execute()
    if int(count) <= limit:
        return None
    return max(1.0, math.ceil((window + 1) * WINDOW_S - now))
