"""A customer's consent: the store keeps every change (`ConsentStore`), Redis caches the current state for the
sender's hot path. Guardrails records changes (opt-out/opt-in keywords, Meta's `user_preferences`), the sender
reads the state before every message to a customer, privacy erasure forgets both.

Key (under `wapipe:`): `consent:{conversation}` -> JSON `{"status": "opted_out" | "opted_in", "since": epoch s |
null}` (`opted_in` with `since` null when the customer never changed anything), for `CACHE_TTL_S`. A writer
records the change in the store first, then overwrites the cached value; a reader that missed fills the cache only
if nobody wrote meanwhile (`SET NX`), so a read racing a change never pins the old state.

When the customer's identity changes, consent follows them (`move`, a `wapipe.state.moves.StateMove`): the history
is copied to the new key's user (newest change wins there) and the old id, which may become a new person (a
recycled number), is reset to opted in with source `identity_moved`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import redis.asyncio as aioredis

from schemas.envelope import Conversation, conversation_key, utcnow
from wapipe.redis import KEY_PREFIX
from wapipe.store.privacy import ConsentChange, ConsentStatus, ConsentStore

CACHE_TTL_S = 24 * 3600
MOVED = "identity_moved"  # the source of the reset an old id gets when its customer moves to a new key


def consent_key(conversation: str) -> str:
    return f"{KEY_PREFIX}consent:{conversation}"


@dataclass(frozen=True)
class ConsentState:
    status: ConsentStatus
    since: datetime | None = None  # when the newest change happened (None: never changed)

    @property
    def opted_out(self) -> bool:
        return self.status == "opted_out"

    def encode(self) -> str:
        return json.dumps({"status": self.status, "since": self.since.timestamp() if self.since else None})

    @classmethod
    def decode(cls, raw: bytes | str | None) -> ConsentState | None:
        """None for a missing value or one this version cannot read (then the store is asked)."""
        if raw is None:
            return None
        try:
            doc = json.loads(raw)
            status, since = doc["status"], doc.get("since")
            if status not in ("opted_out", "opted_in"):
                return None
            return cls(status, datetime.fromtimestamp(float(since), UTC) if since is not None else None)
        except (ValueError, KeyError, TypeError, OverflowError):
            return None

    @classmethod
    def of(cls, change: ConsentChange | None) -> ConsentState:
        return cls(change.status, change.ts) if change else cls("opted_in")


class Consent:
    """The one way services read and change a customer's consent."""

    def __init__(self, redis: aioredis.Redis, store: ConsentStore, ttl_s: int = CACHE_TTL_S) -> None:
        self.redis, self.store, self.ttl_s = redis, store, ttl_s

    async def state(self, tenant: str, user: str) -> ConsentState:
        """From Redis when cached, else from the store (then cached)."""
        key = consent_key(conversation_key(tenant, user))
        cached = ConsentState.decode(await self.redis.get(key))
        if cached is not None:
            return cached
        state = ConsentState.of(await self.store.consent(tenant, user))
        await self.redis.set(key, state.encode(), ex=self.ttl_s, nx=True)
        return state

    async def opted_out(self, tenant: str, user: str) -> bool:
        return (await self.state(tenant, user)).opted_out

    async def latest(self, tenant: str, user: str) -> ConsentChange | None:
        """The newest change from the store (not cached: only consent decisions need it)."""
        return await self.store.consent(tenant, user)

    async def record(self, change: ConsentChange) -> None:
        """Store the change (idempotent), then make the newest change the cached state."""
        await self.store.record_consent(change)
        state = ConsentState.of(await self.store.consent(change.tenant, change.user))  # an older one arriving late
        await self.redis.set(consent_key(conversation_key(change.tenant, change.user)), state.encode(), ex=self.ttl_s)

    async def move(self, source: Conversation, target: Conversation) -> None:
        tenant = source.phone_number_id
        history = await self.store.consent_history(tenant, source.user, limit=1000)
        for c in (c for c in history if c.source != MOVED):  # the customer's own choices, not our resets
            await self.store.record_consent(ConsentChange(tenant, target.user, c.ts, c.status, c.source, c.actor,
                                                          c.detail, c.message_id))
        if history:
            state = ConsentState.of(await self.store.consent(tenant, target.user))
            await self.redis.set(consent_key(conversation_key(tenant, target.user)), state.encode(), ex=self.ttl_s)
        if history and history[-1].status == "opted_out":
            await self.record(ConsentChange(tenant, source.user, max(utcnow(), history[-1].ts), "opted_in", MOVED,
                                            "wapipe", detail=f"moved to {target.user[-4:]}"))
        else:
            await self.forget(conversation_key(tenant, source.user))

    async def forget(self, conversation: str) -> None:
        await self.redis.delete(consent_key(conversation))
