"""Claim once: the first owner of a key holds it for `ttl_s`; the same owner claiming again (a redelivery, a
runtime retry) is told yes as well, anyone else no.

One Lua call, so SET NX and the owner check are one atomic step: of two claimants racing for a free key exactly
one wins, and a holder never loses its claim to a read that came between the two. Used for guardrails' dedupe and
flood notice, the notifier's one-notification-per-handoff and its alert rate limits.
"""

from __future__ import annotations

import redis.asyncio as aioredis

_CLAIM = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then return 1 end
return 0
"""


async def claim_once(redis: aioredis.Redis, key: str, owner: str, ttl_s: int) -> bool:
    """True when `owner` now holds `key` (it was free, or `owner` already held it); the TTL is set only by the
    claim that took the key, so re-claiming never extends it."""
    if ttl_s < 1:
        raise ValueError(f"a claim lasts at least one second, got ttl_s={ttl_s}")
    return bool(await redis.eval(_CLAIM, 1, key, owner, ttl_s))
