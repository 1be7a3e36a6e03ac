"""Pacing shared by every sender replica (Redis token buckets): 80 msg/s per number, 1 per 6 s per customer.

`reserve` never blocks: it books a slot and says how long to wait for it, so the caller awaits only for its own
conversation while the runtime keeps serving other keys. A 131056 answer pauses one conversation.
"""

from __future__ import annotations

import time

import redis.asyncio as aioredis

from wapipe.redis import KEY_PREFIX

# A token bucket that may go negative: each caller books the next free slot and waits until it comes.
# KEYS[1] bucket. ARGV: now (s), rate (tokens/s), burst. Returns the wait in seconds (string).
_RESERVE = """
local now, rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local b = redis.call('HMGET', KEYS[1], 't', 'at')
local tokens, at = tonumber(b[1]) or burst, tonumber(b[2]) or now
tokens = math.min(burst, tokens + (now - at) * rate) - 1
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 60)
if tokens >= 0 then return '0' end
return tostring(-tokens / rate)
"""


class Pacer:
    def __init__(self, redis: aioredis.Redis, *, number_rate: float = 80.0, number_burst: float = 80.0,
                 pair_interval_s: float = 6.0, pair_burst: float = 10.0) -> None:
        self.redis = redis
        self.number = (number_rate, number_burst)
        self.pair = (1.0 / pair_interval_s, pair_burst)

    async def _reserve(self, key: str, rate: float, burst: float) -> float:
        raw = await self.redis.eval(_RESERVE, 1, key, repr(time.time()), repr(rate), repr(burst))
        return float(raw.decode() if isinstance(raw, bytes) else raw)

    async def reserve(self, phone_number_id: str, user: str) -> float:
        """Seconds to wait before this conversation's next message may go out."""
        pauses = [await self.redis.pttl(self._pause_key(phone_number_id, u)) for u in (user, None)]
        pair = await self._reserve(f"{KEY_PREFIX}pace:pair:{phone_number_id}:{user}", *self.pair)
        number = await self._reserve(f"{KEY_PREFIX}pace:num:{phone_number_id}", *self.number)
        return max(pair, number, *(p / 1000 for p in pauses if p and p > 0))

    @staticmethod
    def _pause_key(phone_number_id: str, user: str | None) -> str:
        return f"{KEY_PREFIX}pace:pause:{phone_number_id}" + (f":{user}" if user is not None else "")

    async def pause(self, phone_number_id: str, user: str | None, seconds: float) -> None:
        """Hold one conversation (131056, pair limit) or, with user None, the whole number (130429)."""
        ms = max(1, int(seconds * 1000))
        # Keep the longer of an existing pause and this one.
        await self.redis.eval(
            "local t = redis.call('PTTL', KEYS[1]) if t < tonumber(ARGV[1]) then "
            "redis.call('SET', KEYS[1], '1', 'PX', ARGV[1]) end return 1",
            1, self._pause_key(phone_number_id, user), ms)
