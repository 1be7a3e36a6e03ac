"""`MemoryStore`: the ConversationStore port in memory, for tests that need a store but not a database.

It passes the same contract suite as SQLite and Cassandra (`tests/integration/store/test_contract.py`): newest `n`
oldest first, idempotent writes (ids derived from content, as `codec` does for every backend), retention, and
records that read back through the same codec, so a test sees what a real backend would give it. Beyond the port,
`turns`, `traces` and `handoff_log` list everything still live in write order, for assertions. Consent and the
privacy operations come from `MemoryPrivacy` (`privacy.py`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tests.fakes.privacy import MemoryPrivacy
from wapipe.store import codec
from wapipe.store.port import RETENTION, HandoffEntry, TraceRecord, Turn


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
        return [codec.turn_from_json(r.record) for r in rows[-n:]] if n > 0 else []

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
        for table in (self._turns, self._traces, self._handoffs):
            for key in [k for k, r in table.items() if r.expires_us <= now]:
                del table[key]
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

    # -- rows ----------------------------------------------------------------------------------------------------

    def _now_us(self) -> int:
        return int(self._clock() * 1_000_000)

    def _put(self, table: dict[str, _Row], key: str, ts_us: int, record: Any) -> None:
        """Insert, or (a redelivery) keep the row and renew its expiry, as the SQL backends' upserts do."""
        expires = self._now_us() + int(self.retention.total_seconds() * 1_000_000)
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
