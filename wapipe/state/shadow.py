"""Shadow mode: while a conversation is HUMAN_ACTIVE (12 h by default) the bot stays silent.

Guardrails activates it on a handoff decision, the notifier's operator API takes over, lists and releases.
Keys (under `wapipe:`): `shadow:{conversation}` -> JSON `{"state": "HUMAN_ACTIVE", "reason", "actor", "since"}`
(since in epoch seconds), expiring with the handoff; `shadow:index` sorted set of conversations by expiry time.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass

import redis.asyncio as aioredis

from schemas.envelope import MalformedConversationKey, parse_conversation_key
from wapipe.redis import KEY_PREFIX

log = logging.getLogger(__name__)
HUMAN_ACTIVE_TTL_S = 12 * 3600
_INDEX = f"{KEY_PREFIX}shadow:index"


@dataclass(frozen=True)
class ActiveHandoff:
    conversation: str
    reason: str
    actor: str
    since: float
    ttl_left_s: int


class ShadowMode:
    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    @staticmethod
    def key(conversation: str) -> str:
        return f"{KEY_PREFIX}shadow:{conversation}"

    @staticmethod
    def _value(reason: str, actor: str) -> str:
        return json.dumps({"state": "HUMAN_ACTIVE", "reason": reason, "actor": actor, "since": time.time()})

    async def activate(self, conversation: str, reason: str, actor: str,
                       ttl_s: int = HUMAN_ACTIVE_TTL_S) -> bool:
        """Mark HUMAN_ACTIVE; True when it was not active before (so exactly one caller notifies)."""
        created = await self.redis.set(self.key(conversation), self._value(reason, actor), ex=ttl_s, nx=True)
        await self.redis.zadd(_INDEX, {conversation: time.time() + ttl_s})
        return bool(created)

    async def take_over(self, conversation: str, actor: str, ttl_s: int = HUMAN_ACTIVE_TTL_S) -> None:
        """An operator takes the conversation (or extends it): always (re)sets the full TTL."""
        await self.redis.set(self.key(conversation), self._value("operator", actor), ex=ttl_s)
        await self.redis.zadd(_INDEX, {conversation: time.time() + ttl_s})

    async def is_active(self, conversation: str) -> bool:
        return bool(await self.redis.exists(self.key(conversation)))

    async def since(self, conversation: str) -> float | None:
        """When the conversation became HUMAN_ACTIVE (epoch s), None when the bot is in charge."""
        raw = await self.redis.get(self.key(conversation))
        if raw is None:
            return None
        try:
            return float(json.loads(raw).get("since", 0.0))
        except (ValueError, TypeError, AttributeError):
            return 0.0  # active, but written by something we do not understand: treat as active all along

    async def ttl(self, conversation: str) -> int:
        return int(await self.redis.ttl(self.key(conversation)))

    async def move(self, source: str, target: str) -> bool:
        """The customer's identity changed: a person who has `source` now has `target` (for what is left of
        the handoff; an active `target` keeps its own). True when something moved."""
        moved = await self.redis.eval(
            "local v = redis.call('GET', KEYS[1]) local ttl = redis.call('PTTL', KEYS[1]) "
            "if not v or ttl <= 0 then return 0 end "
            "redis.call('DEL', KEYS[1]) redis.call('ZREM', KEYS[3], ARGV[1]) "
            "if redis.call('SET', KEYS[2], v, 'PX', ttl, 'NX') then "
            "  redis.call('ZADD', KEYS[3], tonumber(ARGV[3]) + ttl / 1000, ARGV[2]) end "
            "return 1",
            3, self.key(source), self.key(target), _INDEX, source, target, repr(time.time()))
        return bool(moved)

    async def release(self, conversation: str) -> bool:
        removed = await self.redis.delete(self.key(conversation))
        await self.redis.zrem(_INDEX, conversation)
        return bool(removed)

    async def active(self, tenant: str | None = None) -> list[ActiveHandoff]:
        """Conversations now HUMAN_ACTIVE (optionally of one tenant), soonest-expiring first."""
        now = time.time()
        await self.redis.zremrangebyscore(_INDEX, "-inf", now)
        out: list[ActiveHandoff] = []
        for raw in await self.redis.zrange(_INDEX, 0, -1):
            conv = raw.decode() if isinstance(raw, bytes) else str(raw)
            try:
                key = parse_conversation_key(conv)
            except MalformedConversationKey as e:  # written from an event nobody validated: never list it
                log.warning("shadow index entry skipped: %s", e)
                continue
            if tenant and key.phone_number_id != tenant:
                continue
            pipe = self.redis.pipeline()
            pipe.get(self.key(conv))
            pipe.ttl(self.key(conv))
            value, ttl = await pipe.execute()
            if not value:
                continue
            doc = json.loads(value)
            out.append(ActiveHandoff(conv, doc.get("reason", ""), doc.get("actor", ""), doc.get("since", 0.0),
                                     int(ttl)))
        return out
