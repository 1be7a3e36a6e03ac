"""Export and erasure of one customer across the store, Redis and the media store; both audited.

Erasure order: Redis and the media store first, the store last, because the store is where the message ids that
name some Redis keys are read from; a failure half-way leaves the store intact, so running it again finishes the
job (every step is idempotent). Kafka topics are not touched: what stays there, and for how long, is in
docs/security.md.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

import redis.asyncio as aioredis

from schemas.envelope import utcnow
from wapipe.privacy import redis_keys
from wapipe.privacy.media import MediaIndex, NoMedia
from wapipe.privacy.subject import Subject
from wapipe.store import PrivacyAudit, Store
from wapipe.store.port import IdentityLink

EXPORT_LIMIT = 100_000  # rows per kind and identity: far beyond 30 days of one customer


def _jsonable(record: Any) -> dict[str, Any]:
    def conv(v: Any) -> Any:
        if isinstance(v, datetime):
            return v.isoformat()
        if isinstance(v, tuple | list):
            return [conv(x) for x in v]
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        return v

    return {k: conv(v) for k, v in dataclasses.asdict(record).items()}


class Privacy:
    def __init__(self, store: Store, redis: aioredis.Redis, media: MediaIndex | None = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.store, self.redis, self.media, self.clock = store, redis, media or NoMedia(), clock

    async def _identities(self, s: Subject) -> tuple[Subject, list[IdentityLink]]:
        """The subject with every id the identity map links to the same customer, and those links."""
        users = list(s.users)
        for u in s.users:  # the id asked for may be a wa_id or a user id, and not the key's own user
            for kind in ("wa_id", "user_id"):
                link = await self.store.identity(s.tenant, kind, u)
                if link is not None:
                    users.append(link.user)
        links: dict[tuple[str, str], IdentityLink] = {}
        for u in dict.fromkeys(users):
            for link in await self.store.identities_of(s.tenant, u):
                links[(link.kind, link.value)] = link
                users += [link.user, link.value]
        return replace(s, users=tuple(dict.fromkeys(users))), list(links.values())

    async def _records(self, s: Subject) -> dict[str, list[Any]]:
        turns, traces, handoffs, consent = [], [], [], []
        for user in s.users:
            turns += await self.store.last_turns(s.tenant, user, EXPORT_LIMIT)
            handoffs += await self.store.handoffs(s.tenant, user, EXPORT_LIMIT)
            consent += await self.store.consent_history(s.tenant, user, EXPORT_LIMIT)
        for conversation in s.conversations:
            traces += await self.store.traces_by_conversation(s.tenant, conversation, EXPORT_LIMIT)
        return {"turns": turns, "traces": traces, "handoffs": handoffs, "consent": consent}

    @staticmethod
    def _message_ids(records: dict[str, list[Any]]) -> set[str]:
        """Inbound wamids (journeys) and the wamids sent to the customer: they name some Redis keys."""
        ids = {t.correlation_id for t in records["traces"]} | {c.message_id for c in records["consent"]}
        for turn in records["turns"]:
            ids.update(turn.message_ids)
        return {i for i in ids if i}

    async def export(self, s: Subject, actor: str) -> dict[str, Any]:
        """Everything kept about the customer, JSON-ready; the export itself is audited (counts only)."""
        s, links = await self._identities(s)
        records = await self._records(s)
        found = await redis_keys.find(self.redis, s.conversations, self._message_ids(records),
                                      redis_keys.identity_cache_keys(s.tenant, s.users))
        redis_state = await redis_keys.dump(self.redis, found)
        media = await self.media.keys(s.tenant, s.users)
        history = sorted(records["consent"], key=lambda c: c.ts)
        now = self.clock()
        counts = {k: len(v) for k, v in records.items()} | {"identities": len(links), "media": len(media),
                                                            "redis_keys": len(redis_state)}
        await self.store.append_privacy_audit(PrivacyAudit(s.tenant, now, "export", actor, s.masked, counts))
        return {
            "tenant": {"phone_number_id": s.tenant, "name": s.tenant_name},
            "user": s.user, "identities": list(s.users), "conversations": list(s.conversations),
            "identity_links": [_jsonable(link) for link in links],
            "exported_at": now.isoformat(), "kept": counts,
            "turns": [_jsonable(t) for t in sorted(records["turns"], key=lambda t: t.ts)],
            "traces": [_jsonable(t) for t in sorted(records["traces"], key=lambda t: t.ts)],
            "handoffs": [_jsonable(h) for h in sorted(records["handoffs"], key=lambda h: h.ts)],
            "consent": {"status": history[-1].status if history else None,
                        "history": [_jsonable(c) for c in history]},
            "media": media,
            "redis": redis_state,
        }

    async def erase(self, s: Subject, actor: str) -> dict[str, Any]:
        """Delete the customer everywhere we keep them; idempotent (a second run erases nothing and says 0)."""
        s, _ = await self._identities(s)
        records = await self._records(s)
        found = await redis_keys.find(self.redis, s.conversations, self._message_ids(records),
                                      redis_keys.identity_cache_keys(s.tenant, s.users))
        # The media first: its owner index is one of the customer's Redis keys, deleted next.
        media_removed = await self.media.delete(await self.media.keys(s.tenant, s.users))
        redis_removed = await redis_keys.delete(self.redis, found)
        counts = await self.store.erase_customer(s.tenant, s.users, s.conversations)
        counts |= {"media": media_removed, "redis_keys": redis_removed}
        now = self.clock()
        await self.store.append_privacy_audit(PrivacyAudit(s.tenant, now, "erase", actor, s.masked, counts))
        return {"tenant": s.tenant, "subject": s.masked, "erased_at": now.isoformat(), "counts": counts}
