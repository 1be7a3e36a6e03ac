"""The 24 h customer-service window: guardrails records each inbound message, the sender reads it.

Meta only accepts free-form messages within 24 h of the customer's last message; outside it, a template.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import redis.asyncio as aioredis

from wapipe.redis import KEY_PREFIX

WINDOW = timedelta(hours=24)


class ServiceWindow:
    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    @staticmethod
    def key(conversation: str) -> str:
        return f"{KEY_PREFIX}window:{conversation}"

    async def touch(self, conversation: str, at: datetime) -> None:
        """Record an inbound message at `at`; an older timestamp never moves the clock back."""
        ts = at.timestamp()
        ttl = max(1, int(ts + WINDOW.total_seconds() - datetime.now(UTC).timestamp()))
        # Keep the newest timestamp: Meta may deliver out of order.
        await self.redis.eval(
            "local cur = tonumber(redis.call('GET', KEYS[1]) or '0') "
            "if tonumber(ARGV[1]) > cur then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) end return 1",
            1, self.key(conversation), repr(ts), ttl,
        )

    async def move(self, source: str, target: str) -> None:
        """The customer's identity changed: `target` keeps the newer of both clocks, `source` has none."""
        await self.redis.eval(
            "local a = tonumber(redis.call('GET', KEYS[1]) or '0') "
            "local b = tonumber(redis.call('GET', KEYS[2]) or '0') "
            "local ttl = redis.call('TTL', KEYS[1]) "
            "if a > b and ttl > 0 then redis.call('SET', KEYS[2], redis.call('GET', KEYS[1]), 'EX', ttl) end "
            "redis.call('DEL', KEYS[1]) return 1",
            2, self.key(source), self.key(target))

    async def last_inbound(self, conversation: str) -> datetime | None:
        raw = await self.redis.get(self.key(conversation))
        return datetime.fromtimestamp(float(raw), UTC) if raw else None

    async def is_open(self, conversation: str, now: datetime | None = None) -> bool:
        last = await self.last_inbound(conversation)
        return last is not None and (now or datetime.now(UTC)) - last < WINDOW
