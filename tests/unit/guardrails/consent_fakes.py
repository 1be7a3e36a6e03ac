"""An in-memory fake of the guardrails consent port (our own port)."""

from __future__ import annotations

from dataclasses import dataclass, field

from wapipe.store import ConsentChange


@dataclass
class MemoryConsent:
    """Every recorded change in order; `latest` is the newest by time, as the store's."""

    changes: list[ConsentChange] = field(default_factory=list)

    async def latest(self, tenant: str, user: str) -> ConsentChange | None:
        mine = [c for c in self.changes if (c.tenant, c.user) == (tenant, user)]
        return max(mine, key=lambda c: c.ts) if mine else None

    async def record(self, change: ConsentChange) -> None:
        if change not in self.changes:
            self.changes.append(change)
