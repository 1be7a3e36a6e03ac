"""The WhatsApp Business app on the Cloud API number (coexistence): what its people send arrives as
`smb_message_echoes`, and onboarding brings `history` and `smb_app_state_sync`.

An echo becomes a `BusinessEchoReceived` on wa.inbound.v1, keyed like the customer's own messages (ingress then
rekeys it through the identity map), so guardrails sees it in order with what the customer writes. `history` (the
app's past chats, up to 180 days before onboarding) and `smb_app_state_sync` (the app's address book) are
accepted and counted, never published: past chats predate the pipeline and would reopen closed conversations as if
they were new, and contact names are not used anywhere. Pure, like `normalize.py`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from schemas import events as ev
from schemas.envelope import Trace, conversation_key, derive_id, is_whatsapp_user
from schemas.meta import webhook as wh
from services.ingress.parts import Normalized, Where

log = logging.getLogger(__name__)

# What of a message's content an echo carries on (`messages.content_of`'s keys).
_ECHO_CONTENT = ("text", "media", "location", "reaction", "original_message_id")
# Coexistence fields read for counting only, and why nothing is published for them.
IGNORED = {
    "history": "past chats of the WhatsApp Business app: not imported (they predate the pipeline)",
    "smb_app_state_sync": "the WhatsApp Business app's contacts: names are not used",
}


def echo_event(value: wh.Value, msg: wh.Message, received_at: datetime,
               content: dict[str, Any]) -> ev.BusinessEchoReceived | None:
    """One echo -> its event, keyed by the customer it went to (`to` / `to_user_id`); None (skipped) when the
    echo names no customer, or one outside WhatsApp's id form."""
    assert value.metadata is not None
    address = wh.EchoAddress.model_validate(msg.model_extra or {})
    to = ev.Recipient(wa_id=_wa_id(address.to), user_id=address.to_user_id)
    if not to.user or not all(is_whatsapp_user(i) for i in (to.wa_id, to.user_id) if i):
        log.warning("echo without a customer it went to skipped (type=%s)", msg.type)
        return None
    tenant = value.metadata.phone_number_id
    kind = wh.TYPE_ALIASES.get(msg.type, msg.type)
    kind = kind if kind in wh.MODELLED_TYPES else "unsupported"
    payload = ev.BusinessEchoReceivedPayload(
        message_id=msg.id, to=to, business_number=msg.from_ or value.metadata.display_phone_number,
        timestamp=datetime.fromtimestamp(int(msg.timestamp), UTC), message_type=kind,
        raw=msg.model_dump(by_alias=True, exclude_unset=True),
        **{k: v for k, v in content.items() if k in _ECHO_CONTENT})
    return ev.BusinessEchoReceived(
        event_id=derive_id("echo", msg.id), occurred_at=payload.timestamp, tenant=tenant,
        conversation=conversation_key(tenant, to.user), correlation_id=msg.id,
        trace=Trace(received_at=received_at, message_type=kind), payload=payload)


def _wa_id(to: str | None) -> str | None:
    """Meta's echo names the customer's number as it was addressed (`+16505551234` in its reference): their wa_id
    is the digits."""
    if to is None:
        return None
    digits = to.strip().removeprefix("+")
    return digits if digits.isascii() and digits.isdigit() else to


def coexistence_change(at: Where, change: wh.Change, received_at: datetime, out: Normalized) -> None:
    """`history` and `smb_app_state_sync`: counted by what they hold (`out.coexistence`), nothing published."""
    value = change.value
    tenant = value.metadata.phone_number_id if value.metadata else at.entry_id
    extra = value.model_extra or {}
    if at.field == "history":
        for chunk in _items(extra.get("history")):
            for thread in _items(chunk.get("threads")):
                out.coexistence[(tenant, at.field, "message")] += len(_items(thread.get("messages")))
            for _ in _items(chunk.get("errors")):  # the business declined to share its history
                out.coexistence[(tenant, at.field, "declined")] += 1
    else:
        for item in _items(extra.get("state_sync")):
            out.coexistence[(tenant, at.field, _label(item.get("action")))] += 1


def _items(value: object) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _label(value: object) -> str:
    text = str(value or "none").lower()
    return text if len(text) <= 40 and text.replace("_", "").isalpha() else "other"
