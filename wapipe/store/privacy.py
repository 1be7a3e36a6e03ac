"""The store's ports for one customer's consent and for their export and erasure (Ley 1581, GDPR art. 15/17).

Consent is kept apart from the conversation data on purpose: turns, traces and the handoff audit expire after
`RETENTION` (30 days), but an opt-out must outlive them, so consent changes are kept until the customer's data is
erased. The privacy audit (who exported or erased, when, how much) is kept for good and never holds the erased
content: the subject is masked to its last four characters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

ConsentStatus = Literal["opted_out", "opted_in"]
PrivacyAction = Literal["export", "erase"]


@dataclass(frozen=True)
class ConsentChange:
    """One consent decision of a customer: the newest one is their state (no change at all: opted in)."""

    tenant: str
    user: str
    ts: datetime
    status: ConsentStatus
    source: str  # keyword, user_preferences, operator, ...
    actor: str  # customer, meta, operator:<name>
    detail: str | None = None  # the keyword that matched ("stop"), Meta's category
    message_id: str | None = None  # the inbound message (or Meta event) that carried it


@dataclass(frozen=True)
class PrivacyAudit:
    """An export or erasure, without what was exported or erased."""

    tenant: str
    ts: datetime
    action: PrivacyAction
    actor: str
    subject: str  # the customer id masked to its last four characters
    counts: dict[str, int] = field(default_factory=dict)


class ConsentStore(Protocol):
    """Consent changes per customer, never expiring. Writes are idempotent (ids derived from content)."""

    async def record_consent(self, change: ConsentChange) -> None: ...

    async def consent(self, tenant: str, user: str) -> ConsentChange | None:
        """The newest change, None when the customer never changed their consent."""
        ...

    async def consent_history(self, tenant: str, user: str, limit: int = 100) -> list[ConsentChange]:
        """The newest `limit` changes, oldest first."""
        ...


class PrivacyStore(Protocol):
    async def erase_customer(self, tenant: str, users: Sequence[str], conversations: Sequence[str]) -> dict[str, int]:
        """Delete every turn, handoff entry and consent change of these identities (`users`) of one customer and
        every trace of their `conversations` (the keys made from them), expired rows too; how many of each went:
        `{"turns", "traces", "handoffs", "consent"}`. Idempotent: a second call deletes nothing and says 0."""
        ...

    async def append_privacy_audit(self, entry: PrivacyAudit) -> None: ...

    async def privacy_audit(self, tenant: str, limit: int = 100) -> list[PrivacyAudit]:
        """The newest `limit` entries of the tenant, oldest first."""
        ...
