"""The notifier's decisions: handoffs -> notifications, HUMAN_ACTIVE customer messages -> relays (a limited number
per conversation and window), permanent delivery failures -> rate-limited alerts. Ports in (state, store,
tenants), events out; no Kafka here.

Every ReplyRequested gets a deterministic reply id (`derive_id(correlation_id, "notifier", ...)`), so a handler
that runs twice asks for the same sends and the sender sends each once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from schemas.envelope import Envelope, derive_id, parse_conversation_key
from schemas.events import (
    MEDIA_REPLY_KINDS,
    AccountEventReceived,
    HandoffRequested,
    MessageReceived,
    OutboundMedia,
    Recipient,
    ReplyFailed,
    ReplyRequested,
    ReplyRequestedPayload,
    StatusReceived,
    TemplateStatusChanged,
    caused_by,
)
from schemas.topics import OUTBOUND
from services.notifier import texts
from services.notifier.account import AccountAlerts
from services.notifier.metrics import NotifierMetrics
from services.notifier.state import NotifierState
from wapipe.logging import mask_phone
from wapipe.runtime.types import Emit, PermanentError, RecordMeta
from wapipe.store.port import ConversationStore, HandoffEntry
from wapipe.tenants import Tenant

log = logging.getLogger(__name__)
STAGE = "notifier"


class Tenants(Protocol):
    """Tenant knowledge by phone_number_id (`wapipe.tenants.TenantRegistry`)."""

    def get(self, phone_number_id: str) -> Tenant | None: ...

    def all(self) -> list[Tenant]: ...


def to_internal(cause: Envelope, tenant: Tenant, text: str, what: str, distinct: str = "") -> list[Emit]:
    """One text per internal number of the tenant, each with a reply id derived from the cause's correlation id
    (plus `distinct` when one journey can cause several of the same kind)."""
    emits = []
    for i, number in enumerate(tenant.internal_numbers):
        payload = ReplyRequestedPayload(
            reply_id=derive_id(cause.correlation_id, STAGE, what, number, distinct), audience="internal",
            to=Recipient(wa_id=number), kind="text", text=text, origin=STAGE, route=f"notifier_{what}")
        emits.append(Emit(OUTBOUND, caused_by(ReplyRequested, cause, f"{STAGE}:{what}", payload, i)))
    return emits


CAPTIONED = frozenset({"image", "video", "document"})


def relayed_media(p: MessageReceived) -> OutboundMedia | None:
    """A customer's media as a reply can send it: by the media stage's object-store key when it stored the bytes,
    else by the customer's media id (the sender downloads and re-uploads it). None for other messages, and for
    media the media stage found unavailable (relayed as text)."""
    m, u = p.payload.media, p.payload.understanding
    if p.payload.message_type not in MEDIA_REPLY_KINDS or m is None:
        return None
    if u is not None and u.status == "unavailable":
        return None  # the media stage could not get the bytes: neither can we; the text relay says what came
    filename = m.filename if p.payload.message_type == "document" else None
    if u is not None and u.object_key:
        return OutboundMedia(object_key=u.object_key, mime_type=m.mime_type, filename=filename)
    if m.id:
        return OutboundMedia(forward_media_id=m.id, mime_type=m.mime_type, filename=filename)
    return None


def relay_media(cause: MessageReceived, tenant: Tenant, media: OutboundMedia) -> list[Emit]:
    """The customer's photo, video or document (with who sent it as the caption) to each internal number; audio
    and stickers take no caption, so the relay text goes first and the media after it."""
    kind = cause.payload.message_type
    emits: list[Emit] = [] if kind in CAPTIONED else to_internal(cause, tenant, texts.relay(cause.conversation,
                                                                                          cause.payload), "relay")
    if kind in CAPTIONED:
        media = media.model_copy(update={"caption": texts.relay_caption(cause.conversation, cause.payload)})
    for i, number in enumerate(tenant.internal_numbers):
        payload = ReplyRequestedPayload(
            reply_id=derive_id(cause.correlation_id, STAGE, "relay-media", number), audience="internal",
            to=Recipient(wa_id=number), kind=kind, media=media, origin=STAGE,
            route="notifier_relay")
        emits.append(Emit(OUTBOUND, caused_by(ReplyRequested, cause, f"{STAGE}:relay-media", payload, i)))
    return emits


@dataclass
class Notifier:
    state: NotifierState
    store: ConversationStore
    tenants: Tenants
    metrics: NotifierMetrics
    context_messages: int = 6
    alert_interval_s: int = 600
    relay_limit: int = 20  # relays per conversation per window: a customer cannot flood the shop's phones
    relay_window_s: int = 600

    async def handle(self, event: Envelope, meta: RecordMeta) -> Sequence[Emit]:
        if isinstance(event, HandoffRequested):
            return await self.handoff(event)
        if isinstance(event, MessageReceived):
            return await self.relay(event, meta)
        if isinstance(event, ReplyFailed):
            return await self.reply_failed(event)
        if isinstance(event, StatusReceived):
            return await self.status(event)
        if isinstance(event, TemplateStatusChanged | AccountEventReceived):
            return await AccountAlerts(self.state, self.metrics, self.alert_interval_s)(event, self.tenants.all())
        return []  # ReplySent and whatever else shares these topics: nothing to do

    def _tenant(self, event: Envelope) -> Tenant:
        tenant = self.tenants.get(event.tenant)
        if tenant is None:
            raise PermanentError(f"unknown tenant {event.tenant}")  # to the DLQ: visible, replayable
        return tenant

    async def handoff(self, event: HandoffRequested) -> Sequence[Emit]:
        p = event.payload
        tenant = self._tenant(event)
        conv = event.conversation
        user = parse_conversation_key(conv).user  # the store keeps the customer's turns under their key
        await self.state.activate(conv, p.reason, p.requested_by, p.ttl_s)
        audit = HandoffEntry(event.tenant, user, event.occurred_at, "requested", p.requested_by, p.reason, p.text)
        await self.store.append_handoff(audit)
        if not await self.state.claim_handoff(conv, event.correlation_id, p.ttl_s):
            # Already handed off (and notified) for another message: one notification per handoff, not per ask.
            self.metrics.handoffs.labels(event.tenant, p.reason, "already_active").inc()
            log.info("handoff for %s already active; not notifying again", mask_phone(user))
            return []
        ref = texts.ref_of(conv)
        await self.state.remember_ref(ref, conv, p.ttl_s)
        turns = await self.store.last_turns(event.tenant, user, self.context_messages) \
            if self.context_messages else []
        text = texts.handoff_notification(business=tenant.business_name, conversation=conv, reason=p.reason,
                                          requested_by=p.requested_by, customer_text=p.text, turns=turns,
                                          ttl_s=p.ttl_s)
        event.trace.step("notifier:handoff")
        emits = to_internal(event, tenant, text, "handoff")
        if p.requested_by != "ai":  # the AI stage already answered the customer with the handoff wording
            emits.append(Emit(OUTBOUND, caused_by(ReplyRequested, event, f"{STAGE}:customer", ReplyRequestedPayload(
                reply_id=derive_id(event.correlation_id, STAGE, "handoff-customer"), channel=p.channel,
                to=p.to, kind="text", text=tenant.wording.handoff, in_reply_to=p.message_id, origin=STAGE,
                route="handoff"))))
        await self.store.append_handoff(HandoffEntry(event.tenant, user, event.occurred_at, "notified", STAGE,
                                                     p.reason, f"ref {ref}; {len(tenant.internal_numbers)} number(s)"))
        self.metrics.handoffs.labels(event.tenant, p.reason, "notified").inc()
        self.metrics.notifications.labels(event.tenant, "handoff").inc(len(tenant.internal_numbers))
        if not tenant.internal_numbers:
            log.warning("tenant %s has no internal numbers: handoff of %s notifies nobody", tenant.name,
                        mask_phone(user))
        return emits

    async def relay(self, event: MessageReceived, meta: RecordMeta) -> Sequence[Emit]:
        if event.payload.message_type == "system":  # WhatsApp reporting an identity change, not the customer
            return []
        since = await self.state.active_since(event.conversation)
        # Only messages that arrived after HUMAN_ACTIVE began: the one that asked for a person is in the
        # handoff notification already. Arrival = when ingress wrote the record (ms, our clocks); Meta's own
        # timestamp has whole seconds and the sender's clock, too coarse to tell the asking message from the next.
        arrived = meta.timestamp_ms / 1000 if meta.timestamp_ms else event.occurred_at.timestamp()
        if since is None or arrived <= since:
            return []
        tenant = self.tenants.get(event.tenant)
        if tenant is None or not tenant.relay_to_internal or not tenant.internal_numbers:
            return []
        p = event.payload
        if not await self.state.allow_relay(event.conversation, p.message_id, arrived, self.relay_limit,
                                            self.relay_window_s):
            self.metrics.relays_suppressed.labels(event.tenant).inc()
            # Once per window the people are told that more messages are waiting (they are in the store).
            if not await self.state.allow_alert(f"relay:{event.conversation}", event.event_id, self.relay_window_s):
                return []
            text = texts.relay_paused(event.conversation, self.relay_limit, self.relay_window_s)
            return to_internal(event, tenant, text, "relay-paused")
        await self.store.append_handoff(HandoffEntry(event.tenant, parse_conversation_key(event.conversation).user,
                                                     event.occurred_at, "relayed", "customer", None, p.message_id))
        self.metrics.relayed.labels(event.tenant).inc()
        self.metrics.notifications.labels(event.tenant, "relay").inc(len(tenant.internal_numbers))
        if (media := relayed_media(event)) is not None:
            return relay_media(event, tenant, media)
        return to_internal(event, tenant, texts.relay(event.conversation, p), "relay")

    async def reply_failed(self, event: ReplyFailed) -> Sequence[Emit]:
        p = event.payload
        if p.audience != "customer" or not p.permanent or p.channel != "whatsapp":
            return []  # an alert about a failed alert would go down the same failing road
        if p.reason == "opted_out":
            return []  # the customer asked for it: nothing failed (counted by the sender)
        return await self._alert(event, "delivery", p.to.user, p.error_code, p.error_title)

    async def status(self, event: StatusReceived) -> Sequence[Emit]:
        p = event.payload
        if p.status != "failed":
            return []
        tenant = self.tenants.get(event.tenant)
        if tenant is not None and p.recipient.user in tenant.internal_numbers:
            return []
        err = p.errors[0] if p.errors else None
        return await self._alert(event, "status", p.recipient.user, err.code if err else None,
                                 (err.title or err.message) if err else None)

    async def _alert(self, event: Envelope, kind: str, recipient: str, code: int | None,
                     title: str | None) -> Sequence[Emit]:
        tenant = self.tenants.get(event.tenant)
        if tenant is None or not tenant.internal_numbers:
            return []
        if not await self.state.allow_alert(f"{event.tenant}:{code or 'invalid'}", event.event_id,
                                            self.alert_interval_s):
            self.metrics.alerts.labels(kind, "rate_limited").inc()
            return []
        self.metrics.alerts.labels(kind, "sent").inc()
        self.metrics.notifications.labels(event.tenant, "alert").inc(len(tenant.internal_numbers))
        log.warning("delivery to %s failed permanently (%s); alerting", mask_phone(recipient), code)
        text = texts.delivery_alert(business=tenant.business_name, recipient=recipient, code=code, title=title,
                                    window_s=self.alert_interval_s)
        return to_internal(event, tenant, text, f"alert-{kind}", event.event_id)
