"""Conversation context for the AI service: the last turns of a conversation, cached in Redis for 30 minutes.

    ctx = ContextCache(redis, store)
    turns = await ctx.last_turns(tenant, user)      # last 6, oldest first; Redis hit or store read + fill
    await ctx.append_turn(turn)                     # store write, then the cached context is invalidated

Invalidation uses a per-conversation generation token as well as a delete: a reader that loaded from the store
before a concurrent write finished stamps its fill with the token it saw, and that fill never counts as a hit once
the writer has rotated the token, so a stale context cannot stick for 30 minutes.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import timedelta

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from wapipe.redis import KEY_PREFIX
from wapipe.store.codec import turn_from_json, turn_to_json
from wapipe.store.port import ConversationStore, Turn

log = logging.getLogger(__name__)

CONTEXT_TURNS = 6
CONTEXT_TTL = timedelta(minutes=30)
# The token must outlive any fill stamped with it; a day is far beyond the 30 min of a fill.
GENERATION_TTL = timedelta(days=1)


class ContextCache:
    """Read-through cache of the last `turns` turns per conversation; writes go through `append_turn`."""

    def __init__(self, redis: aioredis.Redis, store: ConversationStore, *, ttl: timedelta = CONTEXT_TTL,
                 turns: int = CONTEXT_TURNS) -> None:
        self.redis = redis
        self.store = store
        self.ttl = ttl
        self.turns = turns

    @staticmethod
    def key(tenant: str, user: str) -> str:
        return f"{KEY_PREFIX}ctx:{tenant}:{user}"

    @staticmethod
    def generation_key(tenant: str, user: str) -> str:
        return f"{KEY_PREFIX}ctxgen:{tenant}:{user}"

    async def last_turns(self, tenant: str, user: str, n: int = CONTEXT_TURNS) -> list[Turn]:
        """The last `n` turns, oldest first. More than `turns` bypasses the cache."""
        if n <= 0:
            return []
        if n > self.turns:
            return await self.store.last_turns(tenant, user, n)
        key = self.key(tenant, user)
        try:
            raw, gen = await self.redis.mget(key, self.generation_key(tenant, user))
        except RedisError as exc:  # Redis trouble degrades to a store read, never to a missing context
            log.warning("context cache read failed, reading the store: %s", exc)
            return (await self.store.last_turns(tenant, user, self.turns))[-n:]
        token = gen.decode() if isinstance(gen, bytes) else (gen or "")
        if raw is not None:
            doc = json.loads(raw)
            if doc.get("gen") == token:
                return [turn_from_json(d) for d in doc["turns"]][-n:]
        turns = await self.store.last_turns(tenant, user, self.turns)
        body = json.dumps({"gen": token, "turns": [turn_to_json(t) for t in turns]}, ensure_ascii=False)
        try:
            await self.redis.set(key, body, ex=int(self.ttl.total_seconds()))
        except RedisError as exc:
            log.warning("context cache fill failed: %s", exc)
        return turns[-n:]

    async def append_turn(self, turn: Turn) -> None:
        """Persist the turn, then invalidate. If invalidation fails this raises: the caller retries, and the
        store write is idempotent, so the retry only repeats the invalidation."""
        await self.store.append_turn(turn)
        await self.invalidate(turn.tenant, turn.user)

    async def invalidate(self, tenant: str, user: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(self.generation_key(tenant, user), uuid.uuid4().hex, ex=int(GENERATION_TTL.total_seconds()))
            pipe.delete(self.key(tenant, user))
            await pipe.execute()
