"""Token cost from a price table, and spend per conversation and per tenant-day kept in Redis.

Prices are looked up by the longest known prefix of the model name: OpenAI answers with dated snapshot names
(`gpt-4o-2024-08-06` for `gpt-4o`), which an exact lookup missed, pricing them at the default. Before a call the
handler reserves its worst case (every input byte a token, plus the output limit) against the tenant's daily cap in
one Lua call, so concurrent calls cannot all pass a check that each passes alone; after the call the reservation
is settled to the real cost (or released when no model answered). A reservation left by a process that died
expires after `lease_s`. The tally is shared by every AI replica; the day's keys expire two days later.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import redis.asyncio as aioredis

from services.ai.providers import LLMRequest
from wapipe.redis import KEY_PREFIX

CONVERSATION_TTL_S = 30 * 24 * 3600
DAY_TTL_S = 2 * 24 * 3600
RESERVATION_LEASE_S = 300  # well past the chain's total budget (12 s by default)
NANO = 1_000_000_000  # reservations are integer nano-USD: exact sums, no float drift
TOKENS_PER_MESSAGE = 8  # role and framing tokens around each message (OpenAI counts 3-4), with margin
_SEPARATORS = "-:@._/"

# KEYS: day spend (USD), holds (hash: id -> nano-USD, "_total"), leases (zset: id -> expiry).
# ARGV: now, cap (USD), wanted (nano-USD), id, lease expiry, key TTL. Returns 1 (reserved) or 0 (over the cap).
_RESERVE = """
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[1])) do
  local n = redis.call('HGET', KEYS[2], id)
  if n then redis.call('HINCRBY', KEYS[2], '_total', '-' .. n); redis.call('HDEL', KEYS[2], id) end
  redis.call('ZREM', KEYS[3], id)
end
local spent = tonumber(redis.call('GET', KEYS[1]) or '0')
local held = tonumber(redis.call('HGET', KEYS[2], '_total') or '0')
if spent + (held + tonumber(ARGV[3])) / 1e9 > tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[2], ARGV[4], ARGV[3])
redis.call('HINCRBY', KEYS[2], '_total', ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[6])
redis.call('EXPIRE', KEYS[3], ARGV[6])
return 1
"""

# KEYS: holds, leases, day spend, conversation cost. ARGV: id, cost (USD; "" = release only), day TTL, conv TTL.
_SETTLE = """
local n = redis.call('HGET', KEYS[1], ARGV[1])
if n then redis.call('HINCRBY', KEYS[1], '_total', '-' .. n); redis.call('HDEL', KEYS[1], ARGV[1]) end
redis.call('ZREM', KEYS[2], ARGV[1])
if ARGV[2] == '' then return {'0', '0'} end
local day = redis.call('INCRBYFLOAT', KEYS[3], ARGV[2])
redis.call('EXPIRE', KEYS[3], ARGV[3])
local conv = redis.call('INCRBYFLOAT', KEYS[4], ARGV[2])
redis.call('EXPIRE', KEYS[4], ARGV[4])
return {conv, day}
"""


class PriceTable:
    """USD per 1M tokens by model: (input, output), by the longest matching prefix of the model name."""

    def __init__(self, prices: Mapping[str, tuple[float, float]], default: tuple[float, float],
                 default_models: Iterable[str] = ()) -> None:
        self._prices = dict(prices)
        self._by_length = sorted(self._prices, key=len, reverse=True)
        self._default = default
        self._default_models = tuple(default_models)  # what the providers use when a request names no model

    def known(self, model: str | None) -> tuple[float, float] | None:
        """The price of `model` or of its longest prefix ending at a separator (`gpt-4o` for `gpt-4o-2024-08-06`,
        never `gpt-4` for `gpt-4o`)."""
        if not model:
            return None
        for name in self._by_length:
            if model == name or (model.startswith(name) and model[len(name)] in _SEPARATORS):
                return self._prices[name]
        return None

    def price(self, model: str | None, requested: str | None = None) -> tuple[float, float]:
        """By the model that answered, else the one requested, else the default (unknown models are never free)."""
        return self.known(model) or self.known(requested) or self._default

    def cost(self, model: str, input_tokens: int, output_tokens: int, requested: str | None = None) -> float:
        p_in, p_out = self.price(model, requested)
        return (input_tokens * p_in + output_tokens * p_out) / 1_000_000

    def worst_case(self, req: LLMRequest) -> float:
        """The most this request can cost: every input byte a token (byte-level BPE tokenizers never do worse),
        framing per message, the tool calls and the tools offered, the whole output limit, at the dearest model it
        may run on."""
        tokens_in = sum(len(m.content.encode()) + TOKENS_PER_MESSAGE + sum(len(c.arguments.encode()) + len(c.name)
                                                                            for c in m.tool_calls)
                        for m in req.messages) + TOKENS_PER_MESSAGE
        # the tools offered are input too: their names, descriptions and schemas
        tokens_in += sum(len(json.dumps(t.parameters, ensure_ascii=False).encode()) + len(t.description.encode())
                         + len(t.name) + TOKENS_PER_MESSAGE for t in req.tools)
        models: list[str | None] = [req.model] if req.model else [*self._default_models] or [None]
        return max((tokens_in * p_in + req.max_output_tokens * p_out) / 1_000_000
                   for p_in, p_out in (self.price(m) for m in models))


def _day(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y%m%d")


@dataclass(frozen=True)
class Reservation:
    """Budget held for one model call: settle it with the real cost, or release it."""

    tenant: str
    day: str
    id: str
    usd: float


class SpendLedger:
    def __init__(self, redis: aioredis.Redis, *, lease_s: float = RESERVATION_LEASE_S,
                 clock: Callable[[], float] = time.time) -> None:
        self._r = redis
        self._lease_s = lease_s
        self._clock = clock

    @staticmethod
    def spend_key(tenant: str, day: str) -> str:
        """The tenant's spend on `day` (YYYYMMDD), USD as an INCRBYFLOAT string."""
        return f"{KEY_PREFIX}llm:spend:{tenant}:{day}"

    @staticmethod
    def _hold_keys(tenant: str, day: str) -> tuple[str, str]:
        return f"{KEY_PREFIX}llm:holds:{tenant}:{day}", f"{KEY_PREFIX}llm:leases:{tenant}:{day}"

    def _today(self) -> str:
        return _day(datetime.fromtimestamp(self._clock(), UTC))

    async def spent_today(self, tenant: str) -> float:
        v = await self._r.get(self.spend_key(tenant, self._today()))
        return float(v) if v else 0.0

    async def held_today(self, tenant: str) -> float:
        """USD reserved by calls in flight (leases not yet expired or settled)."""
        v = await self._r.hget(self._hold_keys(tenant, self._today())[0], "_total")
        return int(v) / NANO if v else 0.0

    async def reserve(self, tenant: str, usd: float, cap_usd: float) -> Reservation | None:
        """Hold `usd` of today's budget if spent + held + `usd` stays within `cap_usd`; None when it would not."""
        now, day = self._clock(), self._today()
        nanos = max(1, int(usd * NANO) + 1)  # rounded up: a reservation never holds less than the worst case
        rid = uuid.uuid4().hex
        holds, leases = self._hold_keys(tenant, day)
        ok = await self._r.eval(_RESERVE, 3, self.spend_key(tenant, day), holds, leases, repr(now), repr(cap_usd),
                                nanos, rid, repr(now + self._lease_s), DAY_TTL_S)
        return Reservation(tenant, day, rid, nanos / NANO) if ok else None

    async def settle(self, hold: Reservation, conversation: str, usd: float) -> tuple[float, float]:
        """Replace the reservation by the call's real cost; returns (conversation total, tenant-day total)."""
        conv, day = await self._finish(hold, conversation, repr(usd))
        return float(conv), float(day)

    async def release(self, hold: Reservation) -> None:
        """No model answered: give the budget back."""
        await self._finish(hold, "", "")

    async def _finish(self, hold: Reservation, conversation: str, usd: str) -> tuple[bytes | str, bytes | str]:
        holds, leases = self._hold_keys(hold.tenant, hold.day)
        conv, day = await self._r.eval(_SETTLE, 4, holds, leases, self.spend_key(hold.tenant, hold.day),
                                       f"{KEY_PREFIX}llm:conv_cost:{conversation}", hold.id, usd, DAY_TTL_S,
                                       CONVERSATION_TTL_S)
        return conv, day
