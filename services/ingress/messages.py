"""One Meta message as the `MessageReceived` ingress publishes: its sender (from the message or the change's
`contacts`), its type, its content by type (text, media, location, interactive and flow replies, orders,
reactions, WhatsApp's identity changes, edits and revokes) and its context. Pure; `normalize.py` routes the
webhook's parts here."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from schemas import events as ev
from schemas.envelope import Trace, conversation_key, derive_id, is_whatsapp_user
from schemas.meta import webhook as wh

log = logging.getLogger(__name__)


def meta_time(ts: str) -> datetime:
    return datetime.fromtimestamp(int(ts), UTC)


class ContactIndex:
    """The `contacts` of one change by wa_id and by user_id, built in one pass: a lookup per message is O(1).

    Same answer as scanning the list: the first contact matching either id, else the only contact, else None.
    """

    def __init__(self, contacts: list[wh.Contact]) -> None:
        self._contacts = contacts
        self._by_wa_id: dict[str, int] = {}
        self._by_user_id: dict[str, int] = {}
        for i, c in enumerate(contacts):
            if c.wa_id:
                self._by_wa_id.setdefault(c.wa_id, i)
            if c.user_id:
                self._by_user_id.setdefault(c.user_id, i)

    def find(self, msg: wh.Message) -> wh.Contact | None:
        hits = [i for i in (self._by_wa_id.get(msg.from_ or ""), self._by_user_id.get(msg.from_user_id or ""))
                if i is not None]
        if hits:
            return self._contacts[min(hits)]
        return self._contacts[0] if len(self._contacts) == 1 else None


def whatsapp_ids(who: ev.Recipient) -> bool:
    """Meta's ids never hold ':', the separator of the direct channel's `api:<id>` users: one that does could
    otherwise name a direct-channel conversation."""
    return all(is_whatsapp_user(i) for i in (who.wa_id, who.user_id) if i)


def message_event(value: wh.Value, msg: wh.Message, received_at: datetime,
                  contacts: ContactIndex | None = None) -> ev.MessageReceived | None:
    assert value.metadata is not None
    contact = (contacts or ContactIndex(value.contacts)).find(msg)
    sender = ev.Recipient(wa_id=msg.from_ or (contact.wa_id if contact else None),
                          user_id=msg.from_user_id or (contact.user_id if contact else None))
    if not sender.user:
        log.warning("message without sender skipped (type=%s)", msg.type)
        return None
    if not whatsapp_ids(sender):
        log.warning("message from an id outside WhatsApp's form skipped (type=%s)", msg.type)
        return None
    tenant = value.metadata.phone_number_id
    kind = wh.TYPE_ALIASES.get(msg.type, msg.type)
    kind = kind if kind in wh.MODELLED_TYPES else "unsupported"
    payload = ev.MessageReceivedPayload(
        message_id=msg.id, sender=sender, profile_name=contact.profile.name if contact and contact.profile else None,
        display_phone_number=value.metadata.display_phone_number, timestamp=meta_time(msg.timestamp),
        message_type=kind, context=_context(msg.context),
        referral=msg.referral.model_dump(exclude_none=True) if msg.referral else None,
        raw=msg.model_dump(by_alias=True, exclude_unset=True), **content_of(msg),
    )
    return ev.MessageReceived(
        event_id=derive_id("in", msg.id), occurred_at=payload.timestamp, tenant=tenant,
        conversation=conversation_key(tenant, sender.user), correlation_id=msg.id,
        trace=Trace(received_at=received_at, message_type=kind), payload=payload,
    )


def _media(m: wh.MediaObject) -> ev.Media:
    return ev.Media(id=m.id, mime_type=m.mime_type, sha256=m.sha256, caption=m.caption, filename=m.filename,
                    voice=bool(m.voice))


def content_of(msg: wh.Message) -> dict[str, Any]:
    """text / reply_id / media / location / reaction, per message type."""
    match msg:
        case wh.TextMessage():
            return {"text": msg.text.body}
        case wh.ImageMessage() | wh.AudioMessage() | wh.VideoMessage() | wh.DocumentMessage() | wh.StickerMessage():
            media: wh.MediaObject = getattr(msg, msg.type)
            return {"text": media.caption, "media": _media(media)}
        case wh.LocationMessage():
            loc = msg.location
            return {"text": loc.name, "location": ev.Location(latitude=loc.latitude, longitude=loc.longitude,
                                                               name=loc.name, address=loc.address, url=loc.url)}
        case wh.ContactsMessage():
            names = [str((c.name or {}).get("formatted_name", "")) for c in msg.contacts]
            return {"text": ", ".join(n for n in names if n) or None}
        case wh.InteractiveMessage():
            i = msg.interactive
            reply = i.button_reply or i.list_reply
            if reply is not None:
                return {"text": reply.title, "reply_id": reply.id}
            if i.nfm_reply is not None:
                flow = flow_reply(i.nfm_reply)
                return {"text": flow.as_text() or flow.body, "reply_id": i.nfm_reply.name, "flow": flow}
            return {}
        case wh.ButtonMessage():
            return {"text": msg.button.text, "reply_id": msg.button.payload}
        case wh.ReactionMessage():
            return {"reaction": ev.Reaction(message_id=msg.reaction.message_id, emoji=msg.reaction.emoji)}
        case wh.OrderMessage():
            o = msg.order
            return {"text": o.text, "order": ev.Order(catalog_id=o.catalog_id, text=o.text, items=[
                ev.OrderItem(product_retailer_id=i.product_retailer_id, quantity=i.quantity,
                             item_price=i.item_price, currency=i.currency) for i in o.product_items])}
        case wh.SystemMessage():
            return {"text": msg.system.body, "system": system_change(msg)}
        case wh.EditMessage():
            return {"text": msg.change.new_text(), "original_message_id": msg.change.original}
        case wh.RevokeMessage():
            return {"original_message_id": msg.revoke.original_message_id}
    return {}


def flow_reply(nfm: wh.NfmReply) -> ev.FlowReply:
    """The Flow's fields from `response_json` (a JSON string); a body that is not a JSON object gives no fields
    (the message's `raw` keeps it as sent)."""
    try:
        doc = json.loads(nfm.response_json) if nfm.response_json else {}
    except ValueError:
        doc = {}
    fields = dict(doc) if isinstance(doc, dict) else {}
    token = fields.pop("flow_token", None)
    return ev.FlowReply(name=nfm.name, flow_token=str(token) if token is not None else None, body=nfm.body,
                        fields=fields)


def _changed(old: str | None, new: str | None) -> tuple[str | None, str | None]:
    """(old, new) when `new` really replaces `old`, else (None, None)."""
    return (old, new) if new and new != old else (None, None)


def system_change(msg: wh.SystemMessage) -> ev.SystemChange:
    """Which ids the change replaces: the phone number (`wa_id`, `new_wa_id` before v12) and the business-scoped
    id (`user_id` with `previous_user_id`). `customer_identity_changed` replaces none (a new security key)."""
    s = msg.system
    old_wa, new_wa = _changed(msg.from_ or s.customer, s.wa_id or s.new_wa_id)
    old_uid, new_uid = _changed(s.previous_user_id or msg.from_user_id, s.user_id)
    return ev.SystemChange(type=s.type or "unknown", body=s.body,
                           previous=ev.Recipient(wa_id=old_wa, user_id=old_uid),
                           current=ev.Recipient(wa_id=new_wa, user_id=new_uid))


def _context(ctx: wh.Context | None) -> ev.MessageContext | None:
    if ctx is None:
        return None
    return ev.MessageContext(message_id=ctx.id, from_=ctx.from_, forwarded=bool(ctx.forwarded),
                             frequently_forwarded=bool(ctx.frequently_forwarded), referred_product=ctx.referred_product)
