"""Token cost from a price table, and spend per conversation and per tenant-day kept in Redis.

Redis INCRBYFLOAT keeps the tally shared by every AI replica; the day key expires two days later.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import redis.asyncio as aioredis

from wapipe.redis import KEY_PREFIX

CONVERSATION_TTL_S = 30 * 24 * 3600
DAY_TTL_S = 2 * 24 * 3600


class PriceTable:
    """USD per 1M tokens by model: (input, output)."""

    def __init__(self, prices: Mapping[str, tuple[float, float]], default: tuple[float, float]) -> None:
        self._prices = dict(prices)
        self._default = default

    def cost(self, model: str, input_tokens: int, output_tokens: int) -> float:
        p_in, p_out = self._prices.get(model, self._default)
        return (input_tokens * p_in + output_tokens * p_out) / 1_000_000


def _day(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y%m%d")


class SpendLedger:
    def __init__(self, redis: aioredis.Redis) -> None:
        self._r = redis

    @staticmethod
    def day_key(tenant: str, now: datetime | None = None) -> str:
        return f"{KEY_PREFIX}llm:spend:{tenant}:{_day(now)}"

    async def spent_today(self, tenant: str) -> float:
        v = await self._r.get(self.day_key(tenant))
        return float(v) if v else 0.0

    async def add(self, tenant: str, conversation: str, usd: float) -> tuple[float, float]:
        """Record a call's cost; returns (conversation total, tenant-day total)."""
        conv_key = f"{KEY_PREFIX}llm:conv_cost:{conversation}"
        day_key = self.day_key(tenant)
        pipe = self._r.pipeline(transaction=False)
        pipe.incrbyfloat(conv_key, usd)
        pipe.expire(conv_key, CONVERSATION_TTL_S)
        pipe.incrbyfloat(day_key, usd)
        pipe.expire(day_key, DAY_TTL_S)
        conv, _, day, _ = await pipe.execute()
        return float(conv), float(day)
