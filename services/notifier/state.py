"""The notifier's Redis state behind one small port: shadow mode, one-notification-per-handoff claims, conversation
refs, alert rate limits and relay windows. `RedisNotifierState` is the adapter; unit tests use an in-memory fake of
the port."""

from __future__ import annotations

from typing import Protocol

import redis.asyncio as aioredis

from wapipe.redis import KEY_PREFIX
from wapipe.state.claim import claim_once
from wapipe.state.shadow import HUMAN_ACTIVE_TTL_S, ActiveHandoff, ShadowMode
from wapipe.state.sliding import admit_in_window


def _text(raw: bytes | str | None) -> str | None:
    return raw.decode() if isinstance(raw, bytes) else raw


class NotifierState(Protocol):
    """Everything the notifier remembers between events (Redis in production)."""

    async def activate(self, conversation: str, reason: str, actor: str, ttl_s: int) -> None: ...

    async def active_since(self, conversation: str) -> float | None:
        """When the conversation became HUMAN_ACTIVE (epoch s), None when the bot is in charge."""
        ...

    async def claim_handoff(self, conversation: str, correlation_id: str, ttl_s: int) -> bool:
        """True when this handoff (or a redelivery of it) may notify; False for a second handoff while active."""
        ...

    async def allow_alert(self, scope: str, event_id: str, window_s: int) -> bool:
        """True for the first alert of `scope` in the window (and for redeliveries of that same event)."""
        ...

    async def remember_ref(self, ref: str, conversation: str, ttl_s: int) -> None: ...

    async def allow_relay(self, conversation: str, message_id: str, at: float, limit: int, window_s: int) -> bool:
        """True while fewer than `limit` of the conversation's messages were relayed in the `window_s` before `at`
        (and again for a message already relayed)."""
        ...


class RedisNotifierState:
    """Adapter over Redis; the HUMAN_ACTIVE flag itself is `wapipe.state.shadow.ShadowMode`, shared with
    guardrails."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis
        self.shadow = ShadowMode(redis)

    @staticmethod
    def _claim_key(conversation: str) -> str:
        return f"{KEY_PREFIX}notifier:handoff:{conversation}"

    @staticmethod
    def _ref_key(ref: str) -> str:
        return f"{KEY_PREFIX}notifier:ref:{ref}"

    async def activate(self, conversation: str, reason: str, actor: str, ttl_s: int = HUMAN_ACTIVE_TTL_S) -> None:
        await self.shadow.activate(conversation, reason, actor, ttl_s)  # no-op when guardrails already did

    async def active_since(self, conversation: str) -> float | None:
        return await self.shadow.since(conversation)

    async def claim_handoff(self, conversation: str, correlation_id: str, ttl_s: int) -> bool:
        return await claim_once(self.redis, self._claim_key(conversation), correlation_id, ttl_s)

    async def clear_handoff(self, conversation: str) -> None:
        await self.redis.delete(self._claim_key(conversation))

    async def allow_alert(self, scope: str, event_id: str, window_s: int) -> bool:
        return await claim_once(self.redis, f"{KEY_PREFIX}notifier:alert:{scope}", event_id, window_s)

    async def remember_ref(self, ref: str, conversation: str, ttl_s: int) -> None:
        await self.redis.set(self._ref_key(ref), conversation, ex=ttl_s)

    async def allow_relay(self, conversation: str, message_id: str, at: float, limit: int, window_s: int) -> bool:
        return await admit_in_window(self.redis, f"{KEY_PREFIX}notifier:relays:{conversation}", message_id, at,
                                     window_s, limit)

    async def resolve_ref(self, ref: str) -> str | None:
        return _text(await self.redis.get(self._ref_key(ref)))

    async def active(self, tenant: str | None = None) -> list[ActiveHandoff]:
        return await self.shadow.active(tenant)

    async def dlq_seen(self, topic: str) -> int | None:
        raw = await self.redis.get(f"{KEY_PREFIX}notifier:dlq:{topic}")
        return int(raw) if raw is not None else None

    async def set_dlq_seen(self, topic: str, total: int) -> None:
        await self.redis.set(f"{KEY_PREFIX}notifier:dlq:{topic}", total)

    async def release_all(self, conversation: str) -> bool:
        """The bot takes over again: HUMAN_ACTIVE and the notification claim go (the next handoff notifies)."""
        await self.clear_handoff(conversation)
        return await self.shadow.release(conversation)
