"""Meta's word on each template of a WhatsApp Business Account: its status, quality and category, as the
template webhooks (wa.account.v1) report them. The sender records them and reads them before it uses a template,
so a template Meta paused, disabled or rejected is not sent.

One Redis hash per template: `wapipe:templates:{account}:{name}:{language}` (language lower case, `-` as `_`).
Each aspect (status, quality, category) is kept with Meta's time of the webhook that set it, and a webhook older
than what is kept does not overwrite it: a re-published or late webhook cannot bring back an old status.
A pause ends when Meta says so (APPROVED with UNPAUSE) or, should that webhook be missed, after the longest pause
Meta applies (6 h). Templates no webhook mentioned for 90 days are forgotten (Meta's answer then decides).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import redis.asyncio as aioredis

from schemas.events import TemplateRef, TemplateStatusChangedPayload
from wapipe.redis import KEY_PREFIX

BLOCKING = frozenset({"PAUSED", "DISABLED", "REJECTED", "DELETED", "PENDING_DELETION", "ARCHIVED", "PENDING",
                      "IN_APPEAL"})
PAUSE_MAX_S = 6 * 3600  # Meta pauses for 3 h the first time, 6 h the second; the third time it disables
KEY_TTL_S = 90 * 24 * 3600

# Apply one aspect's fields unless what is kept is newer (same time: applied again, a redelivery is harmless).
_APPLY = """
local at_field = ARGV[1] .. '_at'
local kept = redis.call('HGET', KEYS[1], at_field)
if kept and tonumber(kept) > tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], at_field, ARGV[2], unpack(ARGV, 4))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1
"""
_FIELDS = ("status", "status_at", "reason", "title", "quality", "category", "category_next")


def language_key(language: str | None) -> str:
    return (language or "").lower().replace("-", "_")


def template_key(name: str, language: str | None) -> tuple[str, str]:
    return name, language_key(language)


@dataclass(frozen=True)
class TemplateState:
    status: str | None = None  # Meta's last status event: APPROVED, PAUSED, DISABLED, REJECTED, ...
    status_at: float | None = None  # epoch seconds, Meta's time
    reason: str | None = None
    title: str | None = None  # FIRST_PAUSE, SECOND_PAUSE, UNPAUSE, ...
    quality: str | None = None
    category: str | None = None
    category_next: str | None = None  # the category Meta announced it will move the template to

    def blocked(self, now: float) -> bool:
        """Meta would refuse to send it now."""
        if self.status not in BLOCKING:
            return False
        return not (self.status == "PAUSED" and self.status_at is not None and now >= self.status_at + PAUSE_MAX_S)


def _aspect(p: TemplateStatusChangedPayload) -> tuple[str, dict[str, str]] | None:
    """Which aspect a webhook sets and to what; None for one that sets none (a components update)."""
    if p.field == "message_template_status_update" and p.event:
        return "status", {"status": p.event.upper(), "reason": p.reason or "", "title": p.title or ""}
    if p.field == "message_template_quality_update" and p.quality:
        return "quality", {"quality": p.quality.upper()}
    if p.field == "template_category_update" and (p.category or p.correct_category):
        return "category", {"category": p.category or "", "category_next": p.correct_category or ""}
    return None


class TemplateStates:
    """Adapter over Redis; the sender writes (from wa.account.v1) and reads it."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    @staticmethod
    def key(account: str, name: str, language: str | None) -> str:
        return f"{KEY_PREFIX}templates:{account}:{name}:{language_key(language)}"

    async def record(self, p: TemplateStatusChangedPayload) -> bool:
        """Keep what the webhook says; False when it says nothing kept or what is kept is newer."""
        aspect = _aspect(p)
        if aspect is None:
            return False
        name, fields = aspect
        pairs = [x for kv in fields.items() for x in kv]
        return bool(await self.redis.eval(_APPLY, 1, self.key(p.account, p.name, p.language), name,
                                          repr(p.timestamp.timestamp()), KEY_TTL_S, *pairs))

    async def states(self, account: str, templates: Sequence[TemplateRef]) -> dict[tuple[str, str], TemplateState]:
        """What is known of each template, by (name, language key); templates nothing is known of are left out."""
        if not templates:
            return {}
        async with self.redis.pipeline(transaction=False) as pipe:
            for t in templates:
                pipe.hmget(self.key(account, t.name, t.language), *_FIELDS)
            rows = await pipe.execute()
        out = {}
        for t, row in zip(templates, rows, strict=True):
            values = [v.decode() if isinstance(v, bytes) else v for v in row]
            if any(values):
                kept = dict(zip(_FIELDS, (v or None for v in values), strict=True))
                at = kept.pop("status_at")
                out[template_key(t.name, t.language)] = TemplateState(status_at=float(at) if at else None, **kept)
        return out
