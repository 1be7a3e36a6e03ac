"""Builders of inbound events for the guardrails tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from schemas.envelope import Trace, api_user, conversation_key, derive_id
from schemas.events import MessageReceived, MessageReceivedPayload, Recipient
from wapipe.runtime.types import RecordMeta

TENANT = "100000000000001"
# A Wednesday at 15:00 in Bogotá: the demo shop is open.
OPEN_AT = datetime(2026, 11, 18, 20, 0, tzinfo=UTC)


def inbound(text: str | None = "hola", *, wamid: str = "wamid.A1", wa_id: str = "573001112233",
            tenant: str = TENANT, message_type: str = "text", channel: str = "whatsapp",
            at: datetime = OPEN_AT, **extra: Any) -> MessageReceived:
    sender = Recipient(user_id=api_user(wa_id)) if channel == "api" else Recipient(wa_id=wa_id)
    return MessageReceived(
        event_id=derive_id("in", wamid), occurred_at=at, tenant=tenant,
        conversation=conversation_key(tenant, sender.user), correlation_id=wamid, trace=Trace(received_at=at),
        payload=MessageReceivedPayload(channel=channel, message_id=wamid, sender=sender, timestamp=at,
                                       message_type=message_type, text=text, **extra))


def meta(offset: int = 0, partition: int = 0, attempt: int = 1) -> RecordMeta:
    return RecordMeta("wa.inbound.v1", partition, offset, None, None, attempt=attempt)
