"""What the sender needs from outside, behind small ports.

Tenant policies: `RegistryPolicies` reads the shared tenant files (`wapipe.tenants`); `StaticPolicies` gives the
same policy (from settings) to every tenant, and is what tests use. The Protocols are what the executor talks to;
`app.py` wires the Redis adapters (`claims.SendClaims`, `pacing.Pacer`, `wapipe.state.window.ServiceWindow`), the
store, the context cache and `delivery.Delivery` into them, and mypy checks each against its port there. The Graph
API's port, `GraphPort`, sits beside its errors in `graph.py`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from schemas.events import TemplateRef, TemplateStatusChangedPayload
from wapipe.apichat import ApiChatReply
from wapipe.state.consent import ConsentState
from wapipe.state.templates import TemplateState
from wapipe.store.port import TraceRecord, Turn
from wapipe.tenants import TenantRegistry


@dataclass(frozen=True)
class SendPolicy:
    mark_as_read: bool = True
    typing: bool = True
    window_template: TemplateRef | None = None  # sent instead when the 24 h window is closed
    account: str | None = None  # the WhatsApp Business Account (waba_id) whose template state applies


class TenantPolicies(Protocol):
    def policy(self, tenant: str) -> SendPolicy: ...


Claim = Literal["claimed", "doubt", "sent", "busy"]


class ClaimsPort(Protocol):
    """Exactly-once bookkeeping of one send id, shared by every replica: a lease, then "sent" for days."""

    async def claim(self, send_id: str, token: str) -> tuple[Claim, str | None]:
        """Take or renew the lease: ("claimed" | "doubt", None), ("sent", wamid) or ("busy", None)."""
        ...

    async def begin(self, send_id: str) -> None:
        """About to call the Graph API: until mark_sent/release, the outcome is in doubt."""
        ...

    async def sent_wamid(self, send_id: str) -> str | None: ...

    async def mark_sent(self, send_id: str, wamid: str) -> None: ...

    async def confirm(self, send_id: str, wamid: str) -> None:
        """Meta reported a status for this id: it was sent, whoever held the claim."""
        ...

    async def release(self, send_id: str, token: str) -> None: ...


class PacingPort(Protocol):
    """Throughput per number and per customer, shared by every replica."""

    async def reserve(self, phone_number_id: str, user: str) -> float:
        """Book the next slot; returns the seconds to wait for it."""
        ...

    async def pause(self, phone_number_id: str, user: str | None, seconds: float) -> None:
        """Hold one conversation, or with user None the whole number."""
        ...


class TemplatePort(Protocol):
    """Meta's word on the account's templates (`wapipe.state.templates.TemplateStates`): kept from the template
    webhooks, read before a template is used."""

    async def record(self, change: TemplateStatusChangedPayload) -> bool: ...

    async def states(self, account: str, templates: Sequence[TemplateRef]) -> dict[tuple[str, str], TemplateState]:
        """What is known of each template, by (name, language key); unknown ones are left out."""
        ...


class WindowPort(Protocol):
    """The 24 h customer-service window (guardrails records each inbound message)."""

    async def is_open(self, conversation: str, now: datetime | None = None) -> bool: ...

    async def last_inbound(self, conversation: str) -> datetime | None:
        """When the customer last wrote (None: not within the window's memory)."""
        ...


class ConsentPort(Protocol):
    """The customer's consent (`wapipe.state.consent.Consent`: cached in Redis over the store)."""

    async def state(self, tenant: str, user: str) -> ConsentState: ...


class TurnSink(Protocol):
    """Where conversation turns go (the context cache over the store, so the AI sees the new turn)."""

    async def append_turn(self, turn: Turn) -> None: ...


class TraceSink(Protocol):
    """Where the finished journey is recorded (the conversation store)."""

    async def write_trace(self, trace: TraceRecord) -> None: ...


class AnswersPort(Protocol):
    """Whether the customer withdrew what a reply answers (`wapipe.state.answers`: guardrails marks edits and
    revokes, the sender checks here before the first part goes out)."""

    async def begin(self, tenant: str, message_ids: list[str]) -> str | None:
        """The cancel reason when every message the reply answers was revoked or edited (do not send), else
        None; from then on they count as answered and a later edit or revoke cannot cancel the reply."""
        ...


ApiReplies = Callable[[str, ApiChatReply], Awaitable[None]]


@dataclass(frozen=True)
class PartResult:
    wamid: str
    attempts: int
    duplicate: bool = False


class DeliveryPort(Protocol):
    """One message part sent at most once (`delivery.Delivery`: claims, pacing, Graph API, retries)."""

    async def send_once(self, send_id: str, tenant: str, user: str, kind: str, body: dict[str, Any], *,
                        token: str | None = None) -> PartResult:
        """`token`: the claim's holder, the same across one record's attempts (None: this call alone)."""
        ...

    async def mark_read(self, tenant: str, body: dict[str, Any]) -> bool:
        """Best effort read receipt / typing indicator; False when it failed."""
        ...

    async def confirm(self, send_id: str, wamid: str) -> None:
        """Meta's status for a send id we sent (or may have sent): it went out."""
        ...


class StaticPolicies:
    """One policy for every tenant, with optional per-tenant overrides."""

    def __init__(self, default: SendPolicy, per_tenant: dict[str, SendPolicy] | None = None) -> None:
        self.default = default
        self.per_tenant = per_tenant or {}

    def policy(self, tenant: str) -> SendPolicy:
        return self.per_tenant.get(tenant, self.default)


class RegistryPolicies:
    """Policies from the shared tenant files (`sender:` flags, `window_template`); unknown tenants get `default`."""

    def __init__(self, registry: TenantRegistry, default: SendPolicy) -> None:
        self.registry = registry
        self.default = default

    def policy(self, tenant: str) -> SendPolicy:
        t = self.registry.get(tenant)
        if t is None:
            return self.default
        tpl = t.window_template
        return SendPolicy(mark_as_read=t.sender.mark_as_read, typing=t.sender.typing,
                          window_template=TemplateRef(name=tpl.name, language=tpl.language) if tpl
                          else self.default.window_template, account=t.waba_id or self.default.account)
