"""A sliding-window admission in one Lua call: guardrails' flood limit and the notifier's relay limit."""

from __future__ import annotations

import redis.asyncio as aioredis

# Forget entries older than the window; an entry already admitted is admitted again (a retry or a redelivery asks
# for the same thing, which is then done once); otherwise admit while under the limit.
_ADMIT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
if redis.call('ZSCORE', KEYS[1], ARGV[3]) then return 1 end
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[4]) then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[3])
  redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])) + 1)
  return 1
end
return 0
"""


async def admit_in_window(redis: aioredis.Redis, key: str, member: str, now: float, window_s: float,
                          limit: int) -> bool:
    """True when `member` is (or already was) one of at most `limit` entries of `key` in the last `window_s`."""
    return bool(await redis.eval(_ADMIT, 1, key, repr(now), repr(float(window_s)), member, limit))
