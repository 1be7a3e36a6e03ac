"""Events as the other stages produce them, for the notifier's tests (unit, integration and e2e)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from schemas.envelope import conversation_key, derive_id
from schemas.events import (
    HandoffRequested,
    HandoffRequestedPayload,
    MessageReceived,
    MessageReceivedPayload,
    MetaError,
    Recipient,
    ReplyFailed,
    ReplyFailedPayload,
    StatusReceived,
    StatusReceivedPayload,
)

TENANT = "100000000000001"
CUSTOMER = "573001234567"
INTERNAL = "573000000099"


def conv(customer: str = CUSTOMER) -> str:
    return conversation_key(TENANT, customer)


def handoff(wamid: str = "wamid.H1", customer: str = CUSTOMER, reason: str = "humano",
            requested_by: str = "guardrails", text: str = "quiero hablar con un asesor") -> HandoffRequested:
    return HandoffRequested(
        event_id=derive_id(wamid, "guardrails", "HandoffRequested", 0), tenant=TENANT, conversation=conv(customer),
        correlation_id=wamid, payload=HandoffRequestedPayload(message_id=wamid, to=Recipient(wa_id=customer),
                                                              reason=reason, text=text, requested_by=requested_by))


def message(wamid: str, text: str | None = "hola", customer: str = CUSTOMER, *, at: datetime | None = None,
            message_type: str = "text") -> MessageReceived:
    at = at or datetime.now(UTC)
    return MessageReceived(
        event_id=derive_id(wamid, "ingress"), occurred_at=at, tenant=TENANT, conversation=conv(customer),
        correlation_id=wamid, payload=MessageReceivedPayload(
            message_id=wamid, sender=Recipient(wa_id=customer), profile_name="Cliente",
            timestamp=at - timedelta(seconds=1), message_type=message_type, text=text))


def reply_failed(reply_id: str = "r1", code: int | None = 131026, audience: str = "customer",
                 customer: str = CUSTOMER) -> ReplyFailed:
    return ReplyFailed(
        event_id=derive_id(reply_id, "sender", "ReplyFailed"), tenant=TENANT, conversation=conv(customer),
        correlation_id=f"wamid.{reply_id}", payload=ReplyFailedPayload(
            reply_id=reply_id, audience=audience, to=Recipient(wa_id=customer), kind="text", error_code=code,
            error_title="Message undeliverable"))  # type: ignore[arg-type]


def status_failed(wamid: str = "wamid.S1", code: int = 131049, recipient: str = CUSTOMER) -> StatusReceived:
    return StatusReceived(
        event_id=derive_id(wamid, "status", "failed"), tenant=TENANT, conversation=conv(recipient),
        correlation_id=wamid, payload=StatusReceivedPayload(
            message_id=wamid, status="failed", recipient=Recipient(wa_id=recipient), timestamp=datetime.now(UTC),
            errors=[MetaError(code=code, title="healthy ecosystem engagement")]))
