"""Pacing shared by every sender replica (Redis token buckets): 80 msg/s per number, 1 per 6 s per customer.

`reserve` never blocks: it books a slot and says how long to wait for it, so the caller awaits only for its own
conversation while the runtime keeps serving other keys. A 131056 answer pauses one conversation.
"""

from __future__ import annotations

import time

import redis.asyncio as aioredis

from wapipe.redis import KEY_PREFIX

# Token buckets that may go negative: each caller books the next free slot and waits until it comes. One round
# trip books both buckets and reads both pauses.
# KEYS: pair bucket, number bucket, conversation pause, number pause.
# ARGV: now (s), pair rate (tokens/s), pair burst, number rate, number burst. Returns the wait in seconds (string).
_RESERVE = """
local now = tonumber(ARGV[1])
local function book(key, rate, burst)
  local b = redis.call('HMGET', key, 't', 'at')
  local tokens, at = tonumber(b[1]) or burst, tonumber(b[2]) or now
  tokens = math.min(burst, tokens + (now - at) * rate) - 1
  redis.call('HSET', key, 't', tostring(tokens), 'at', tostring(now))
  redis.call('EXPIRE', key, math.ceil(burst / rate) + 60)
  if tokens >= 0 then return 0 end
  return -tokens / rate
end
local wait = math.max(book(KEYS[1], tonumber(ARGV[2]), tonumber(ARGV[3])),
                      book(KEYS[2], tonumber(ARGV[4]), tonumber(ARGV[5])))
for i = 3, 4 do
  local ms = redis.call('PTTL', KEYS[i])
  if ms > 0 then wait = math.max(wait, ms / 1000) end
end
return tostring(wait)
"""


class Pacer:
    def __init__(self, redis: aioredis.Redis, *, number_rate: float = 80.0, number_burst: float = 80.0,
                 pair_interval_s: float = 6.0, pair_burst: float = 10.0) -> None:
        self.redis = redis
        self.number = (number_rate, number_burst)
        self.pair = (1.0 / pair_interval_s, pair_burst)

    async def reserve(self, phone_number_id: str, user: str) -> float:
        """Seconds to wait before this conversation's next message may go out."""
        raw = await self.redis.eval(
            _RESERVE, 4, f"{KEY_PREFIX}pace:pair:{phone_number_id}:{user}", f"{KEY_PREFIX}pace:num:{phone_number_id}",
            self._pause_key(phone_number_id, user), self._pause_key(phone_number_id, None),
            repr(time.time()), repr(self.pair[0]), repr(self.pair[1]), repr(self.number[0]), repr(self.number[1]))
        return float(raw.decode() if isinstance(raw, bytes) else raw)

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
