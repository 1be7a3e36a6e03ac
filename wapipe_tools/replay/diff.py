"""Which decisions changed: a sandbox's traces against the original traces of the same inbound messages."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from wapipe.store.port import ConversationStore, TraceRecord

FIELDS = ("route", "intent", "message_type", "decision_path")


@dataclass(frozen=True)
class Change:
    correlation_id: str
    field: str
    before: str
    after: str


@dataclass
class DiffReport:
    compared: int = 0
    unchanged: int = 0
    without_original: int = 0
    changes: list[Change] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return len({c.correlation_id for c in self.changes})


def _show(value: object) -> str:
    if isinstance(value, tuple):
        return " > ".join(map(str, value)) or "-"
    return "-" if value is None else str(value)


def _latest(traces: Iterable[TraceRecord]) -> dict[str, TraceRecord]:
    out: dict[str, TraceRecord] = {}
    for t in sorted(traces, key=lambda t: t.ts):
        out[t.correlation_id] = t
    return out


def compare(originals: Iterable[TraceRecord], replayed: Iterable[TraceRecord]) -> DiffReport:
    """One row per decision field that differs; the latest trace per correlation id counts on each side."""
    before, after = _latest(originals), _latest(replayed)
    report = DiffReport()
    for cid, new in sorted(after.items()):
        old = before.get(cid)
        if old is None:
            report.without_original += 1
            continue
        report.compared += 1
        diffs = [Change(cid, f, _show(getattr(old, f)), _show(getattr(new, f)))
                 for f in FIELDS if getattr(old, f) != getattr(new, f)]
        report.changes += diffs
        report.unchanged += not diffs
    return report


async def load(original: ConversationStore, sandbox: ConversationStore, tenants: Iterable[str],
               days: int = 30) -> DiffReport:
    end = datetime.now(UTC) + timedelta(days=1)
    start = end - timedelta(days=days + 1)
    replayed: list[TraceRecord] = []
    for tenant in tenants:
        replayed += await sandbox.traces_between(tenant, start, end, limit=100_000)
    originals: list[TraceRecord] = []
    for cid in sorted({t.correlation_id for t in replayed}):
        originals += await original.traces_by_correlation(cid)
    return compare(originals, replayed)
