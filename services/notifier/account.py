"""Alerts from Meta's account-level webhooks (wa.account.v1): a template paused, disabled, rejected or re-rated, a
business number flagged or its limit changed, the account restricted. Each tenant whose `waba_id` is the event's
account gets one text per internal number, rate-limited per tenant and subject (the template or number and what
happened to it); the event's own redelivery asks
for the same sends (same reply ids), which the sender sends once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from schemas.envelope import Envelope, conversation_key, derive_id
from schemas.events import (
    AccountEventReceived,
    Recipient,
    ReplyRequested,
    ReplyRequestedPayload,
    TemplateStatusChanged,
)
from schemas.topics import OUTBOUND
from services.notifier import texts
from services.notifier.metrics import NotifierMetrics
from services.notifier.state import NotifierState
from wapipe.runtime.types import Emit
from wapipe.tenants import Tenant

log = logging.getLogger(__name__)
STAGE = "notifier"


@dataclass
class AccountAlerts:
    state: NotifierState
    metrics: NotifierMetrics
    alert_interval_s: int = 600

    async def __call__(self, event: TemplateStatusChanged | AccountEventReceived,
                       tenants: Sequence[Tenant]) -> list[Emit]:
        mine = [t for t in tenants if t.waba_id == event.tenant]
        if not mine:
            log.warning("%s for account %s: no tenant file names it (waba_id), nobody alerted", event.type,
                        event.tenant)
            return []
        if isinstance(event, TemplateStatusChanged):
            kind, p = "template", event.payload
            if p.field == "message_template_components_update":
                return []  # the business edited it: nothing to warn about
            subject = f"{p.field}:{p.name}:{p.language}:{p.event or p.quality or p.category}"
        else:
            kind, subject = "account", f"{event.payload.field}:{event.payload.event}"
        emits: list[Emit] = []
        for tenant in mine:
            if not tenant.internal_numbers:
                continue
            if not await self.state.allow_alert(f"{tenant.phone_number_id}:{kind}:{subject}", event.event_id,
                                                self.alert_interval_s):
                self.metrics.alerts.labels(kind, "rate_limited").inc()
                continue
            text = (texts.template_alert(tenant.business_name, event.payload)
                    if isinstance(event, TemplateStatusChanged)
                    else texts.account_alert(tenant.business_name, event.payload))
            emits += _to_internal(event, tenant, text, f"alert-{kind}")
            self.metrics.alerts.labels(kind, "sent").inc()
            self.metrics.notifications.labels(tenant.phone_number_id, "alert").inc(len(tenant.internal_numbers))
        return emits


def _to_internal(cause: Envelope, tenant: Tenant, text: str, what: str) -> list[Emit]:
    """One text per internal number, sent from the tenant's number (the cause belongs to no conversation)."""
    pnid = tenant.phone_number_id
    return [Emit(OUTBOUND, ReplyRequested(
        event_id=derive_id(cause.event_id, STAGE, what, pnid, number), tenant=pnid,
        conversation=conversation_key(pnid, number), correlation_id=cause.correlation_id, causation_id=cause.event_id,
        trace=cause.child_trace(), payload=ReplyRequestedPayload(
            reply_id=derive_id(cause.correlation_id, STAGE, what, pnid, number), audience="internal",
            to=Recipient(wa_id=number), kind="text", text=text, origin=STAGE, route=f"notifier_{what}")))
        for number in tenant.internal_numbers]
