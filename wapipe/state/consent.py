"""A customer's consent: the store keeps every change (`ConsentStore`), Redis caches the current state for the
sender's hot path. Guardrails records changes (opt-out/opt-in keywords, Meta's `user_preferences`), the sender
reads the state before every message to a customer, privacy erasure forgets both.

Key (under `wapipe:`): `consent:{conversation}` -> `opted_out` | `opted_in` (`opted_in` also when the customer
never changed anything), for `CACHE_TTL_S`. A writer records the change in the store first, then overwrites the
cached value; a reader that missed fills the cache only if nobody wrote meanwhile (`SET NX`), so a read racing a
change never pins the old state.
"""

from __future__ import annotations

import redis.asyncio as aioredis

from schemas.envelope import conversation_key
from wapipe.redis import KEY_PREFIX
from wapipe.store.privacy import ConsentChange, ConsentStatus, ConsentStore

CACHE_TTL_S = 24 * 3600
_STATES: tuple[ConsentStatus, ...] = ("opted_out", "opted_in")


def consent_key(conversation: str) -> str:
    return f"{KEY_PREFIX}consent:{conversation}"


class Consent:
    """The one way services read and change a customer's consent."""

    def __init__(self, redis: aioredis.Redis, store: ConsentStore, ttl_s: int = CACHE_TTL_S) -> None:
        self.redis, self.store, self.ttl_s = redis, store, ttl_s

    async def status(self, tenant: str, user: str) -> ConsentStatus:
        """`opted_out` or `opted_in`, from Redis when cached, else from the store (then cached)."""
        key = consent_key(conversation_key(tenant, user))
        raw = await self.redis.get(key)
        cached = raw.decode() if isinstance(raw, bytes) else raw
        if cached in _STATES:
            return cached
        latest = await self.store.consent(tenant, user)
        state: ConsentStatus = latest.status if latest else "opted_in"
        await self.redis.set(key, state, ex=self.ttl_s, nx=True)
        return state

    async def opted_out(self, tenant: str, user: str) -> bool:
        return await self.status(tenant, user) == "opted_out"

    async def latest(self, tenant: str, user: str) -> ConsentChange | None:
        """The newest change from the store (not cached: only consent decisions need it)."""
        return await self.store.consent(tenant, user)

    async def record(self, change: ConsentChange) -> None:
        """Store the change (idempotent), then make it the cached state."""
        await self.store.record_consent(change)
        latest = await self.store.consent(change.tenant, change.user)  # an older change arriving late loses
        state = latest.status if latest else change.status
        await self.redis.set(consent_key(conversation_key(change.tenant, change.user)), state, ex=self.ttl_s)

    async def forget(self, conversation: str) -> None:
        await self.redis.delete(consent_key(conversation))
