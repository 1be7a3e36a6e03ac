"""Row <-> record conversions shared by every backend and the context cache.

Timestamps are kept as integer microseconds since the epoch (UTC) in every backend, so a record reads back
exactly as it was written whatever the backend (Cassandra's `timestamp` type would drop the microseconds).
Ids are derived from the content: writing the same record twice (an at-least-once redelivery) stores it once.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from schemas.envelope import derive_id
from wapipe.store.port import HandoffEntry, TraceRecord, Turn
from wapipe.store.privacy import ConsentChange, PrivacyAudit


def to_us(ts: datetime) -> int:
    """Microseconds since the epoch; a naive datetime is taken as UTC."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    delta = ts - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(us: int) -> datetime:
    return datetime.fromtimestamp(us // 1_000_000, UTC).replace(microsecond=us % 1_000_000)


def turn_id(t: Turn) -> str:
    return derive_id("turn", t.tenant, t.user, to_us(t.ts), t.role, t.text, *t.message_ids)


def trace_id(t: TraceRecord) -> str:
    return derive_id("trace", t.tenant, t.correlation_id, t.outcome, to_us(t.ts))


def handoff_id(h: HandoffEntry) -> str:
    return derive_id("handoff", h.tenant, h.user, to_us(h.ts), h.action, h.actor, h.reason, h.detail)


def consent_id(c: ConsentChange) -> str:
    return derive_id("consent", c.tenant, c.user, to_us(c.ts), c.status, c.source, c.actor, c.detail, c.message_id)


def audit_id(a: PrivacyAudit) -> str:
    return derive_id("privacy", a.tenant, to_us(a.ts), a.action, a.actor, a.subject)


def bucket_of(correlation_id: str, buckets: int) -> int:
    """A stable bucket (crc32, not Python's salted hash) so every process agrees where a trace lives."""
    return zlib.crc32(correlation_id.encode()) % buckets


def turn_to_json(t: Turn) -> dict[str, Any]:
    doc: dict[str, Any] = {"tenant": t.tenant, "user": t.user, "ts": to_us(t.ts), "role": t.role, "text": t.text,
                           "message_ids": list(t.message_ids)}
    if t.edited:
        doc["edited"] = True
    if t.deleted:
        doc["deleted"] = True
    return doc


def turn_from_json(d: dict[str, Any]) -> Turn:
    return Turn(tenant=d["tenant"], user=d["user"], ts=from_us(int(d["ts"])), role=d["role"], text=d["text"],
                message_ids=tuple(d.get("message_ids") or ()), edited=bool(d.get("edited")),
                deleted=bool(d.get("deleted")))


@dataclass(frozen=True)
class Revision:
    """The newest edit (`text`) or deletion of one message, as every backend keeps it."""

    message_id: str
    text: str
    deleted: bool
    at_us: int


# Whose turns an edit or a deletion can change: the customer's (Meta's edit/revoke webhooks) and a person's of the
# business writing from the WhatsApp Business app (its edit/revoke echoes). Never the bot's.
REVISABLE: frozenset[str] = frozenset({"customer", "human"})


def revised(turns: list[Turn], revisions: Iterable[Revision]) -> list[Turn]:
    """`turns` with the revisions of the messages they carry applied (`REVISABLE` turns only)."""
    by_id = {r.message_id: r for r in revisions}
    if not by_id:
        return turns
    out: list[Turn] = []
    for t in turns:
        hits = [by_id[m] for m in t.message_ids if m in by_id] if t.role in REVISABLE else []
        if any(r.deleted for r in hits):
            t = replace(t, text="", deleted=True, edited=False)
        elif hits:
            t = replace(t, text=max(hits, key=lambda r: r.at_us).text, edited=True)
        out.append(t)
    return out


def trace_to_body(t: TraceRecord) -> str:
    """The whole record as JSON: queried columns are stored beside it, the rest only travels inside."""
    return json.dumps({
        "tenant": t.tenant, "conversation": t.conversation, "correlation_id": t.correlation_id, "ts": to_us(t.ts),
        "outcome": t.outcome, "route": t.route, "message_type": t.message_type, "intent": t.intent,
        "decision_path": list(t.decision_path), "llm_called": t.llm_called, "cache_hit": t.cache_hit,
        "stages": t.stages, "attrs": t.attrs,
    }, ensure_ascii=False, default=str)


def trace_from_body(body: str) -> TraceRecord:
    d = json.loads(body)
    return TraceRecord(
        tenant=d["tenant"], conversation=d["conversation"], correlation_id=d["correlation_id"],
        ts=from_us(int(d["ts"])), outcome=d["outcome"], route=d.get("route"), message_type=d.get("message_type"),
        intent=d.get("intent"), decision_path=tuple(d.get("decision_path") or ()),
        llm_called=bool(d.get("llm_called")), cache_hit=bool(d.get("cache_hit")),
        stages=dict(d.get("stages") or {}), attrs=dict(d.get("attrs") or {}),
    )
