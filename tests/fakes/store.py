"""`MemoryStore`: the ConversationStore and IdentityStore ports in memory, for tests that need a store but not a
database.

It passes the same contract suite as SQLite and Cassandra (`tests/integration/store/test_contract.py`): newest `n`
oldest first, idempotent writes (ids derived from content, as `codec` does for every backend), retention, and
records that read back through the same codec, so a test sees what a real backend would give it. Beyond the port,
`turns`, `traces`, `handoff_log` and `revisions` list everything still live in write order, for assertions. Consent
and the privacy operations come from `MemoryPrivacy` (`privacy.py`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tests.fakes.privacy import MemoryPrivacy
from wapipe.store import codec
from wapipe.store.port import RETENTION, HandoffEntry, IdentityLink, IdKind, TraceRecord, Turn


@dataclass
class _Row:
    seq: int  # write order, the tie-break every backend uses after the timestamp
    ts_us: int
    expires_us: int
    record: Any  # encoded as a backend would: JSON dict (turn), JSON body (trace), HandoffEntry


class MemoryStore(MemoryPrivacy):
    """ConversationStore in one process's memory; `clock` (epoch seconds) drives expiry."""

    def __init__(self, turns: Iterable[Turn] = (), *, retention: timedelta = RETENTION,
                 clock: Callable[[], float] = time.time) -> None:
        self.retention = retention
        self._clock = clock
        self._seq = 0
        self._turns: dict[str, _Row] = {}
        self._traces: dict[str, _Row] = {}
        self._handoffs: dict[str, _Row] = {}
        self._revisions: dict[tuple[str, str, str], _Row] = {}  # (tenant, user, message_id) -> codec.Revision
        self._links: dict[tuple[str, str, str], IdentityLink] = {}  # (tenant, kind, value), no expiry
        for t in turns:
            self._put(self._turns, codec.turn_id(t), codec.to_us(t.ts), codec.turn_to_json(t))

    # -- the port ------------------------------------------------------------------------------------------------

    async def migrate(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def append_turn(self, turn: Turn) -> None:
        self._put(self._turns, codec.turn_id(turn), codec.to_us(turn.ts), codec.turn_to_json(turn))

    async def last_turns(self, tenant: str, user: str, n: int = 6) -> list[Turn]:
        rows = self._live(self._turns, lambda d: d["tenant"] == tenant and d["user"] == user)
        turns = [codec.turn_from_json(r.record) for r in rows[-n:]] if n > 0 else []
        now = self._now_us()
        return codec.revised(turns, [r.record for (t, u, _), r in self._revisions.items()
                                     if t == tenant and u == user and r.expires_us > now])

    async def revise_turn(self, tenant: str, user: str, message_id: str, text: str | None, at: datetime) -> None:
        key, at_us = (tenant, user, message_id), codec.to_us(at)
        old = self._revisions.get(key)
        rev: codec.Revision = codec.Revision(message_id, text or "", text is None, at_us)
        if old is not None and old.expires_us > self._now_us():
            was: codec.Revision = old.record
            if was.deleted or (not rev.deleted and was.at_us > at_us):  # a deletion is final, the newest edit wins
                rev = codec.Revision(message_id, "" if was.deleted or rev.deleted else was.text,
                                     was.deleted or rev.deleted, max(was.at_us, at_us))
        self._seq += 1
        self._revisions[key] = _Row(self._seq, at_us, self._expiry(), rev)

    async def move_conversation(self, tenant: str, from_user: str, to_user: str) -> int:
        if from_user == to_user:
            return 0
        moved = 0
        for key, row in list(self._turns.items()):
            d = row.record
            if d["tenant"] == tenant and d["user"] == from_user:
                del self._turns[key]
                turn = codec.turn_from_json({**d, "user": to_user})
                self._turns.setdefault(codec.turn_id(turn), _Row(row.seq, row.ts_us, row.expires_us,
                                                                 codec.turn_to_json(turn)))
                moved += 1
        for key, row in list(self._handoffs.items()):
            e = row.record
            if e.tenant == tenant and e.user == from_user:
                del self._handoffs[key]
                entry = HandoffEntry(tenant, to_user, e.ts, e.action, e.actor, e.reason, e.detail)
                self._handoffs.setdefault(codec.handoff_id(entry), _Row(row.seq, row.ts_us, row.expires_us, entry))
                moved += 1
        for (t, u, mid), row in list(self._revisions.items()):
            if t == tenant and u == from_user:
                del self._revisions[(t, u, mid)]
                self._revisions.setdefault((t, to_user, mid), row)
                moved += 1
        return moved

    async def link_identity(self, link: IdentityLink) -> IdentityLink:
        key = (link.tenant, link.kind, link.value)
        held = self._links.get(key)
        if held is not None and (held.retired_at is None or held.holds_at(link.since)):
            return held
        self._links[key] = IdentityLink(link.tenant, link.kind, link.value, link.user, self._us(link.since))
        return self._links[key]

    async def set_identity(self, link: IdentityLink) -> None:
        retired = self._us(link.retired_at) if link.retired_at is not None else None
        self._links[(link.tenant, link.kind, link.value)] = IdentityLink(
            link.tenant, link.kind, link.value, link.user, self._us(link.since), retired)

    async def identity(self, tenant: str, kind: IdKind, value: str) -> IdentityLink | None:
        return self._links.get((tenant, kind, value))

    async def identities_of(self, tenant: str, user: str) -> list[IdentityLink]:
        return sorted((x for x in self._links.values() if x.tenant == tenant and x.user == user),
                      key=lambda x: (x.since, x.kind, x.value))

    async def write_trace(self, trace: TraceRecord) -> None:
        self._put(self._traces, codec.trace_id(trace), codec.to_us(trace.ts), codec.trace_to_body(trace))

    async def traces_by_conversation(self, tenant: str, conversation: str, limit: int = 50) -> list[TraceRecord]:
        traces = self._decoded_traces()
        return [t for t in traces if t.tenant == tenant and t.conversation == conversation][-limit:] \
            if limit > 0 else []

    async def traces_by_correlation(self, correlation_id: str) -> list[TraceRecord]:
        return [t for t in self._decoded_traces() if t.correlation_id == correlation_id]

    async def traces_between(self, tenant: str, start: datetime, end: datetime,
                             limit: int = 1000) -> list[TraceRecord]:
        lo, hi = codec.to_us(start), codec.to_us(end)
        return [t for t in self._decoded_traces()
                if t.tenant == tenant and lo <= codec.to_us(t.ts) < hi][:max(limit, 0)]

    async def append_handoff(self, entry: HandoffEntry) -> None:
        # Round-tripped through the microsecond clock every backend keeps.
        entry = HandoffEntry(entry.tenant, entry.user, codec.from_us(codec.to_us(entry.ts)), entry.action,
                             entry.actor, entry.reason, entry.detail)
        self._put(self._handoffs, codec.handoff_id(entry), codec.to_us(entry.ts), entry)

    async def handoffs(self, tenant: str, user: str, limit: int = 50) -> list[HandoffEntry]:
        rows = self._live(self._handoffs, lambda e: e.tenant == tenant and e.user == user)
        return [r.record for r in rows[-limit:]] if limit > 0 else []

    async def purge(self) -> int:
        """Drop expired records (reads already hide them); returns how many were dropped."""
        now, dropped = self._now_us(), 0
        for table in (self._turns, self._traces, self._handoffs, self._revisions):
            for key in [k for k, r in table.items() if r.expires_us <= now]:
                del table[key]  # type: ignore[attr-defined]
                dropped += 1
        return dropped

    # -- for assertions ------------------------------------------------------------------------------------------

    @property
    def turns(self) -> list[Turn]:
        return [codec.turn_from_json(r.record) for r in self._in_write_order(self._turns)]

    @property
    def traces(self) -> list[TraceRecord]:
        return [codec.trace_from_body(r.record) for r in self._in_write_order(self._traces)]

    @property
    def handoff_log(self) -> list[HandoffEntry]:
        return [r.record for r in self._in_write_order(self._handoffs)]

    @property
    def revisions(self) -> list[tuple[str, str, str, str | None]]:
        """(tenant, user, message_id, text) of every live revision in write order; text None for a deletion."""
        now = self._now_us()
        rows = sorted(((k, r) for k, r in self._revisions.items() if r.expires_us > now), key=lambda kr: kr[1].seq)
        return [(t, u, m, None if r.record.deleted else r.record.text) for (t, u, m), r in rows]

    # -- rows ----------------------------------------------------------------------------------------------------

    def _now_us(self) -> int:
        return int(self._clock() * 1_000_000)

    def _expiry(self) -> int:
        return self._now_us() + int(self.retention.total_seconds() * 1_000_000)

    @staticmethod
    def _us(at: datetime) -> datetime:
        """Round-tripped through the microsecond clock every backend keeps."""
        return codec.from_us(codec.to_us(at))

    def _put(self, table: dict[str, _Row], key: str, ts_us: int, record: Any) -> None:
        """Insert, or (a redelivery) keep the row and renew its expiry, as the SQL backends' upserts do."""
        expires = self._expiry()
        row = table.get(key)
        if row is not None:
            row.expires_us = expires
            return
        self._seq += 1
        table[key] = _Row(self._seq, ts_us, expires, record)

    def _live(self, table: dict[str, _Row], keep: Callable[[Any], bool]) -> list[_Row]:
        """Unexpired rows that `keep` accepts, oldest first."""
        now = self._now_us()
        return sorted((r for r in table.values() if r.expires_us > now and keep(r.record)),
                      key=lambda r: (r.ts_us, r.seq))

    def _decoded_traces(self) -> list[TraceRecord]:
        return [codec.trace_from_body(r.record) for r in self._live(self._traces, lambda _: True)]

    def _in_write_order(self, table: dict[str, _Row]) -> list[_Row]:
        now = self._now_us()
        return sorted((r for r in table.values() if r.expires_us > now), key=lambda r: r.seq)
