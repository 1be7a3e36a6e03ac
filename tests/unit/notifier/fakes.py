"""In-memory fakes of the notifier's own ports (tenants, state) for fast unit tests; the store is the shared
`tests.fakes.store.MemoryStore`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from wapipe.tenants import Tenant, load_tenant

DEMO = Path(__file__).resolve().parents[3] / "config" / "tenants" / "demo.yaml"


def demo_tenant(**changes: object) -> Tenant:
    return load_tenant(DEMO).model_copy(update=changes)


class FakeTenants:
    def __init__(self, *tenants: Tenant) -> None:
        self.tenants = list(tenants)

    def get(self, phone_number_id: str) -> Tenant | None:
        return next((t for t in self.tenants if t.phone_number_id == phone_number_id), None)

    def all(self) -> list[Tenant]:
        return list(self.tenants)


class FakeState:
    def __init__(self) -> None:
        self.shadow: dict[str, tuple[float, str]] = {}
        self.claims: dict[str, str] = {}
        self.alerts: dict[str, str] = {}
        self.refs: dict[str, str] = {}
        self.relays: dict[str, list[tuple[float, str]]] = {}

    async def activate(self, conversation: str, reason: str, actor: str, ttl_s: int) -> None:
        self.shadow.setdefault(conversation, (datetime.now().timestamp(), actor))

    async def active_since(self, conversation: str) -> float | None:
        entry = self.shadow.get(conversation)
        return entry[0] if entry else None

    async def claim_handoff(self, conversation: str, correlation_id: str, ttl_s: int) -> bool:
        return self.claims.setdefault(conversation, correlation_id) == correlation_id

    async def allow_alert(self, scope: str, event_id: str, window_s: int) -> bool:
        return self.alerts.setdefault(scope, event_id) == event_id

    async def remember_ref(self, ref: str, conversation: str, ttl_s: int) -> None:
        self.refs[ref] = conversation

    async def allow_relay(self, conversation: str, message_id: str, at: float, limit: int, window_s: int) -> bool:
        window = [(t, m) for t, m in self.relays.get(conversation, []) if t > at - window_s]
        if any(m == message_id for _, m in window):
            return True
        if len(window) >= limit:
            return False
        self.relays[conversation] = [*window, (at, message_id)]
        return True
