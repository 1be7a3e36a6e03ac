"""Pure translation of one Meta webhook delivery into the events ingress publishes.

Each change is routed on its `field` (`ROUTES`): messages and statuses here, account-level fields in
`account.py`; a field no route knows is counted and ignored. Each entry, change, message and status is read on
its own: one that cannot be read becomes an `UnreadablePart` (for the raw log's DLQ) and the rest still yields
its events. Ids are derived from Meta's ids, so a redelivery of the same webhook yields the same event ids
(guardrails drops the duplicates). Nothing here does I/O.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar, cast

from pydantic import ValidationError

from schemas import events as ev
from schemas.envelope import Trace, conversation_key, derive_id
from schemas.meta import account as acc
from schemas.meta import webhook as wh
from schemas.meta.objects import epoch_seconds
from schemas.topics import INBOUND, STATUS
from services.ingress import account, consent, echoes
from services.ingress.messages import ContactIndex, content_of, message_event, meta_time, whatsapp_ids
from services.ingress.parts import Normalized, UnreadablePart, Where
from wapipe.logging import mask_phone
from wapipe.runtime.types import Emit

log = logging.getLogger(__name__)

STATUSES = frozenset({"sent", "delivered", "read", "failed", "played", "deleted", "warning"})
__all__ = ["Normalized", "UnreadablePart", "normalize"]  # the result types live in parts.py

FieldRoute = Callable[[Where, wh.Change, datetime, Normalized], None]
M = TypeVar("M", bound=wh._Open)


def count_updates(payload: wh.WebhookPayload) -> int:
    """Messages, statuses and echoes in the whole delivery (the unit a size cap counts)."""
    return sum(len(c.value.messages) + len(c.value.statuses) + len(c.value.message_echoes) for entry in payload.entry
               if isinstance(entry, wh.Entry) for c in entry.changes if isinstance(c, wh.Change))


def normalize(payload: wh.WebhookPayload, received_at: datetime) -> Normalized:
    out = Normalized()
    for ei, entry in enumerate(payload.entry):
        if isinstance(entry, wh.Unreadable):
            out.unreadable.append(UnreadablePart(f"entry[{ei}]", "entry", None, None, entry.raw, entry.error))
            continue
        when = _entry_time(entry)
        for ci, change in enumerate(entry.changes):
            path = f"entry[{ei}].changes[{ci}]"
            if isinstance(change, wh.Unreadable):
                field = change.raw.get("field") if isinstance(change.raw, dict) else None
                out.unreadable.append(UnreadablePart(path, "change", field if isinstance(field, str) else None,
                                                     entry.id, change.raw, change.error))
                continue
            out.errors.extend(change.value.errors)
            out.fields[change.field] += 1
            route = ROUTES.get(change.field)
            if route is None:
                out.unknown_fields.add(change.field)
                continue
            try:
                route(Where(entry.id, when, path, change.field), change, received_at, out)
            # A value not as Meta documents (ValidationError is a ValueError), or a bug in reading this field: either
            # way only this change is set aside (DLQ, alert, reprocess after the fix), never the rest of the POST.
            except Exception as e:
                _note_bug(e, path)
                out.unreadable.append(UnreadablePart(path, "change", change.field, entry.id,
                                                     change.model_dump(by_alias=True, exclude_unset=True,
                                                                       mode="json"), _reason(e), type(e).__name__))
    return out


def _entry_time(entry: wh.Entry) -> datetime | None:
    try:
        return meta_time(epoch_seconds((entry.model_extra or {}).get("time")))
    except ValueError:
        return None


def _note_bug(e: Exception, path: str) -> None:
    if not isinstance(e, ValueError):  # not the data's fault: the traceback is needed to fix it
        log.error("reading %s failed with %s; the part is set aside", path, type(e).__name__, exc_info=e)


def _reason(e: Exception) -> str:
    return wh.explain(e) if isinstance(e, ValidationError) else str(e)[:1000]


def messages_change(at: Where, change: wh.Change, received_at: datetime, out: Normalized) -> None:
    """Messages and statuses, each on its own: an unreadable one is set aside, the others become events."""
    value, md = change.value, change.value.metadata
    if md is None:
        if value.messages or value.statuses:  # nobody to attribute them to: set aside whole, never dropped
            raise ValueError("value.metadata: missing, so the business number is unknown")
        return
    contacts = ContactIndex(value.contacts)
    for i, msg in enumerate(value.messages):
        part = _Part(out, at, md.phone_number_id, f"{at.path}.value.messages[{i}]", "message")
        if not isinstance(msg, wh.Unreadable):
            out.errors.extend(msg.errors)
        with part.reading(msg) as read:
            if read is not None:
                part.emit(INBOUND, message_event(value, cast(wh.Message, read), received_at, contacts))
    for i, st in enumerate(value.statuses):
        part = _Part(out, at, md.phone_number_id, f"{at.path}.value.statuses[{i}]", "status")
        if not isinstance(st, wh.Unreadable):
            out.errors.extend(st.errors)
        with part.reading(st) as read_st:
            if read_st is not None:
                part.emit(STATUS, status_event(md, read_st, received_at))


class _Part:
    """One message or status being read: set aside when unreadable (as parsed, or when turning it into an event
    fails), else its event (or a deliberate skip) recorded."""

    def __init__(self, out: Normalized, at: Where, tenant: str, path: str, kind: str) -> None:
        self.out, self.at, self.tenant, self.path, self.kind = out, at, tenant, path, kind

    def _aside(self, raw: Any, error: str, error_class: str = "UnreadablePart") -> None:
        self.out.unreadable.append(UnreadablePart(self.path, self.kind, self.at.field, self.tenant, raw, error,
                                                  error_class))

    @contextmanager
    def reading(self, item: M | wh.Unreadable) -> Iterator[M | None]:
        if isinstance(item, wh.Unreadable):
            self._aside(item.raw, item.error)
            yield None
            return
        try:
            yield item
        except Exception as e:  # a value the event refuses (ValidationError is a ValueError), or a bug: set aside
            _note_bug(e, self.path)
            self._aside(item.model_dump(by_alias=True, exclude_unset=True, mode="json"), _reason(e),
                        type(e).__name__)

    def emit(self, topic: str, event: ev.MessageReceived | ev.StatusReceived | ev.BusinessEchoReceived | None
             ) -> None:
        if event is None:
            self.out.skipped += 1
        else:
            self.out.emits.append(Emit(topic, event))


def echoes_change(at: Where, change: wh.Change, received_at: datetime, out: Normalized) -> None:
    """`smb_message_echoes`: each echo (a person writing from the WhatsApp Business app) on its own ->
    `BusinessEchoReceived` on wa.inbound.v1 (`echoes.py`); messages and statuses, if any, as under `messages`."""
    value, md = change.value, change.value.metadata
    if md is None and value.message_echoes:
        raise ValueError("value.metadata: missing, so the business number is unknown")
    messages_change(at, change, received_at, out)
    for i, echo in enumerate(value.message_echoes):
        assert md is not None
        part = _Part(out, at, md.phone_number_id, f"{at.path}.value.message_echoes[{i}]", "echo")
        with part.reading(echo) as read:
            if read is not None:
                msg = cast(wh.Message, read)
                part.emit(INBOUND, echoes.echo_event(value, msg, received_at, content_of(msg)))


def consent_change(at: Where, change: wh.Change, received_at: datetime, out: Normalized) -> None:
    """Meta's `user_preferences`: `ConsentChanged` per entry on wa.inbound.v1, keyed like the customer's messages
    (`consent.py`); entries it cannot attribute or read are counted as skipped there."""
    result = consent.consent_events(change.value, received_at)
    out.emits.extend(result.emits)
    out.skipped += result.skipped


# Which handler reads each webhook field. `smb_message_echoes` is the business writing from the WhatsApp Business
# app on the same number; `history` and `smb_app_state_sync` come with it (coexistence) and are only counted.
ROUTES: dict[str, FieldRoute] = {
    "messages": messages_change,
    "smb_message_echoes": echoes_change,
    **dict.fromkeys(echoes.IGNORED, echoes.coexistence_change),
    **dict.fromkeys(acc.TEMPLATE_FIELDS, account.template_change),
    **dict.fromkeys(acc.ACCOUNT_FIELDS, account.account_change),
    "user_preferences": consent_change,
    "calls": account.calls_change,
}
_ROUTE_NAMES = {"messages": "messages", "smb_message_echoes": "echoes", "user_preferences": "consent",
                **dict.fromkeys(echoes.IGNORED, "coexistence"),
                "calls": "calls", **dict.fromkeys(acc.TEMPLATE_FIELDS, "templates"),
                **dict.fromkeys(acc.ACCOUNT_FIELDS, "account")}


def route_name(field: str) -> str:
    """How a field is handled, as a metric label: messages, echoes, coexistence, templates, account, consent, calls
    or unknown."""
    return _ROUTE_NAMES.get(field, "unknown")


def status_event(md: wh.Metadata, st: wh.Status, received_at: datetime) -> ev.StatusReceived | None:
    recipient = ev.Recipient(wa_id=st.recipient_id, user_id=st.recipient_user_id)
    if st.status not in STATUSES or not recipient.user or not whatsapp_ids(recipient):
        log.warning("status skipped: %s for %s", st.status, mask_phone(recipient.user))
        return None
    tenant = md.phone_number_id
    payload = ev.StatusReceivedPayload(
        message_id=st.id, status=st.status, recipient=recipient, timestamp=meta_time(st.timestamp),
        errors=[ev.MetaError(code=e.code, title=e.title, message=e.message,
                             details=e.error_data.details if e.error_data else None) for e in st.errors],
        pricing=st.pricing.model_dump(exclude_none=True) if st.pricing else None,
        conversation_id=st.conversation.id if st.conversation else None,
        biz_opaque_callback_data=st.biz_opaque_callback_data,
    )
    return ev.StatusReceived(
        event_id=derive_id("status", st.id, st.status, st.timestamp), occurred_at=payload.timestamp, tenant=tenant,
        conversation=conversation_key(tenant, recipient.user), correlation_id=st.id,
        trace=Trace(received_at=received_at), payload=payload,
    )
