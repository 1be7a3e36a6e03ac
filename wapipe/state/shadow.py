"""Shadow mode: while a conversation is HUMAN_ACTIVE (12 h by default) the bot stays silent.

Guardrails activates it on a handoff decision, the notifier's operator API takes over, lists and releases.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import redis.asyncio as aioredis

from wapipe.redis import KEY_PREFIX

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

    async def activate(self, conversation: str, reason: str, actor: str,
                       ttl_s: int = HUMAN_ACTIVE_TTL_S) -> bool:
        """Mark HUMAN_ACTIVE; True when it was not active before (so exactly one caller notifies)."""
        value = json.dumps({"state": "HUMAN_ACTIVE", "reason": reason, "actor": actor, "since": time.time()})
        created = await self.redis.set(self.key(conversation), value, ex=ttl_s, nx=True)
        await self.redis.zadd(_INDEX, {conversation: time.time() + ttl_s})
        return bool(created)

    async def take_over(self, conversation: str, actor: str, ttl_s: int = HUMAN_ACTIVE_TTL_S) -> None:
        """An operator takes the conversation (or extends it): always (re)sets the full TTL."""
        value = json.dumps({"state": "HUMAN_ACTIVE", "reason": "operator", "actor": actor, "since": time.time()})
        await self.redis.set(self.key(conversation), value, ex=ttl_s)
        await self.redis.zadd(_INDEX, {conversation: time.time() + ttl_s})

    async def is_active(self, conversation: str) -> bool:
        return bool(await self.redis.exists(self.key(conversation)))

    async def ttl(self, conversation: str) -> int:
        return int(await self.redis.ttl(self.key(conversation)))

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
            if tenant and not conv.startswith(f"{tenant}:"):
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
