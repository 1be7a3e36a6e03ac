"""Meta's `user_preferences` webhook field -> `ConsentChanged` events on wa.inbound.v1. Pure, no I/O.

The field router calls `consent_events(value, received_at)` for a change whose `field` is `user_preferences`.
Each entry of `value.user_preferences` (`{"wa_id", "user_id"?, "category", "value": "stop"|"resume",
"timestamp", "detail"}`) becomes one event keyed like the customer's messages, so it is ordered with them;
guardrails records it (`wapipe.state.consent`) and answers nothing. Ids derive from the entry, so Meta's
redeliveries carry the same event ids and land on the same stored change.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from schemas import events as ev
from schemas.envelope import Trace, conversation_key, derive_id, is_whatsapp_user
from schemas.meta import webhook as wh
from schemas.topics import INBOUND
from wapipe.runtime.types import Emit

log = logging.getLogger(__name__)
FIELD = "user_preferences"
STATUS_OF = {"stop": "opted_out", "resume": "opted_in"}


@dataclass(frozen=True)
class ConsentEvents:
    emits: list[Emit]
    skipped: int  # entries without a customer id, an unknown value or an unreadable timestamp


def _when(raw: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(raw), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _user_id_of(value: wh.Value, wa_id: str | None) -> str | None:
    for c in value.contacts:
        if wa_id and c.wa_id == wa_id:
            return c.user_id
    return value.contacts[0].user_id if len(value.contacts) == 1 else None


def consent_events(value: wh.Value, received_at: datetime) -> ConsentEvents:
    """One `Emit(INBOUND, ConsentChanged)` per readable entry of `value.user_preferences`."""
    extra = value.model_extra or {}
    entries = extra.get(FIELD) or []
    if value.metadata is None or not isinstance(entries, list):
        return ConsentEvents([], len(entries) if isinstance(entries, list) else 1)
    tenant, emits, skipped = value.metadata.phone_number_id, [], 0
    for item in entries:
        if not isinstance(item, dict):
            skipped += 1
            continue
        wa_id = item.get("wa_id")
        who = ev.Recipient(wa_id=wa_id, user_id=item.get("user_id") or _user_id_of(value, wa_id))
        status, at = STATUS_OF.get(str(item.get("value", "")).lower()), _when(item.get("timestamp"))
        if not who.user or not all(is_whatsapp_user(i) for i in (who.wa_id, who.user_id) if i) \
                or status is None or at is None:
            skipped += 1
            continue
        ref = derive_id("consent", tenant, who.user, item.get("timestamp"), status, item.get("category"))
        emits.append(Emit(INBOUND, ev.ConsentChanged(
            event_id=derive_id("in", ref), occurred_at=at, tenant=tenant,
            conversation=conversation_key(tenant, who.user), correlation_id=f"upref.{ref}",
            trace=Trace(received_at=received_at, message_type=FIELD),
            payload=ev.ConsentChangedPayload(user=who, status=status,
                                             category=item.get("category"), detail=item.get("detail"),
                                             timestamp=at))))
    if skipped:
        log.warning("%d user_preferences entries skipped (no customer id, unknown value or timestamp)", skipped)
    return ConsentEvents(emits, skipped)
