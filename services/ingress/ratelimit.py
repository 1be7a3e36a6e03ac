"""Sliding one-minute windows in Redis (a sorted set of request times per key), shared by every replica.

A request can be counted against several windows at once (/api/chat: its key, its tenant, its conversation): it
is let in only when every window has room, and then counted in all of them, in one atomic script.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import redis.asyncio as aioredis

from wapipe.redis import KEY_PREFIX

WINDOW_S = 60.0

# KEYS: one sorted set per window; ARGV: now, window, member, then one limit per key.
# Returns {} when admitted (and counted everywhere), else {index, oldest score, ...} for each full window.
# Refused requests are counted nowhere, so a client that keeps retrying is let in as soon as the windows allow.
_HIT = """
local now, window, member = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local full = {}
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= tonumber(ARGV[3 + i]) then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    full[#full + 1] = i
    full[#full + 1] = oldest[2] or ARGV[1]
  end
end
if #full > 0 then return full end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, member)
  redis.call('EXPIRE', key, math.ceil(window) + 1)
end
return full
"""


@dataclass(frozen=True)
class Limit:
    scope: str  # what is limited ("apichat:tenant"), part of the Redis key and of the refusal
    key: str
    per_min: int

    @property
    def redis_key(self) -> str:
        return f"{KEY_PREFIX}rate:{self.scope}:{self.key}"


@dataclass(frozen=True)
class Refused:
    scopes: tuple[str, ...]  # every full window, in the order given
    retry_after_s: float  # until the last of them has a free slot (for Retry-After)


async def hit_all(redis: aioredis.Redis, limits: Sequence[Limit], now: float | None = None) -> Refused | None:
    """Count one request against every window; None when allowed, else which windows are full and for how long."""
    now = time.time() if now is None else now
    member = f"{now:.6f}:{uuid.uuid4().hex[:8]}"
    full = await redis.eval(_HIT, len(limits), *(lim.redis_key for lim in limits), repr(now), repr(WINDOW_S),
                            member, *(lim.per_min for lim in limits))
    if not full:
        return None
    pairs = [(limits[int(full[i]) - 1].scope, float(full[i + 1])) for i in range(0, len(full), 2)]
    wait = max(max(1, math.ceil(first + WINDOW_S - now)) for _, first in pairs)
    return Refused(tuple(scope for scope, _ in pairs), float(wait))


async def hit(redis: aioredis.Redis, scope: str, key: str, limit: int, now: float | None = None) -> float | None:
    """One window: None when allowed, else the seconds until a slot frees up."""
    refused = await hit_all(redis, [Limit(scope, key, limit)], now)
    return None if refused is None else refused.retry_after_s
