"""Account-level webhook fields -> events on wa.account.v1, keyed and addressed by the WhatsApp Business Account
(the entry id): templates (status, quality, components, category), number quality and account updates; and the
`calls` field, counted and ignored. Pure, no I/O.

Ids derive from the account, the field, Meta's time and the value as sent, so a redelivery of the same webhook
carries the same event ids and a `wapipe reprocess` re-publishes them unchanged.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, cast

from schemas import events as ev
from schemas.envelope import Trace, derive_id
from schemas.meta import account as acc
from schemas.meta import webhook as wh
from schemas.topics import ACCOUNT
from services.ingress.parts import Normalized, Where
from wapipe.runtime.types import Emit


def raw_value(value: wh.Value) -> dict[str, Any]:
    """The change's value with the keys Meta sent (our defaults left out)."""
    return value.model_dump(by_alias=True, exclude_unset=True, mode="json")


def _ref(at: Where, raw: dict[str, Any]) -> str:
    when = int(at.entry_time.timestamp()) if at.entry_time else ""
    return derive_id("account", at.entry_id, at.field, when, json.dumps(raw, sort_keys=True, ensure_ascii=False))


def _envelope(at: Where, raw: dict[str, Any], received_at: datetime, kind: str) -> dict[str, Any]:
    ref = _ref(at, raw)
    return {"event_id": derive_id("in", ref), "occurred_at": at.entry_time or received_at, "tenant": at.entry_id,
            "conversation": ev.account_conversation(at.entry_id), "correlation_id": f"{kind}.{ref[:24]}",
            "trace": Trace(received_at=received_at, message_type=at.field)}


def template_change(at: Where, change: wh.Change, received_at: datetime, out: Normalized) -> None:
    raw = raw_value(change.value)
    v = acc.TemplateValue.model_validate(raw)
    info = v.other_info or acc.TemplateInfo()
    payload = ev.TemplateStatusChangedPayload(
        account=at.entry_id, field=cast(ev.TemplateField, at.field), template_id=v.message_template_id,
        name=v.message_template_name, language=v.message_template_language, event=v.event, reason=v.reason,
        category=v.message_template_category or v.new_category, previous_category=v.previous_category,
        correct_category=v.correct_category, quality=v.new_quality_score, previous_quality=v.previous_quality_score,
        title=info.title, description=info.description, timestamp=at.entry_time or received_at, raw=raw)
    event = ev.TemplateStatusChanged(**_envelope(at, raw, received_at, "tpl"), payload=payload)
    out.emits.append(Emit(ACCOUNT, event, key=at.entry_id))


def account_change(at: Where, change: wh.Change, received_at: datetime, out: Normalized) -> None:
    raw = raw_value(change.value)
    if at.field == "phone_number_quality_update":
        q = acc.PhoneQualityValue.model_validate(raw)
        number, event, current, old = (q.display_phone_number, q.event,
                                       q.current_limit or q.max_daily_conversations_per_business, q.old_limit)
    else:
        a = acc.AccountUpdateValue.model_validate(raw)
        number, event, current, old = a.phone_number, a.event, None, None
    payload = ev.AccountEventReceivedPayload(
        account=at.entry_id, field=cast(ev.AccountField, at.field), event=event, display_phone_number=number,
        current_limit=current, old_limit=old, timestamp=at.entry_time or received_at, raw=raw)
    event_ = ev.AccountEventReceived(**_envelope(at, raw, received_at, "acct"), payload=payload)
    out.emits.append(Emit(ACCOUNT, event_, key=at.entry_id))


def calls_change(at: Where, change: wh.Change, received_at: datetime, out: Normalized) -> None:
    """Calling is not supported yet: each call event and call status is counted (by the business number and the
    event), nothing is published. Numbers stay out of the counts and the logs."""
    value = change.value
    tenant = value.metadata.phone_number_id if value.metadata else at.entry_id
    calls = (value.model_extra or {}).get("calls") or []
    for call in calls if isinstance(calls, list) else [calls]:
        kind = call.get("event") if isinstance(call, dict) else None
        out.calls[(tenant, _label(kind))] += 1
    for st in value.statuses:
        out.calls[(tenant, _label(getattr(st, "status", None)))] += 1


def _label(value: object) -> str:
    """A Meta enum value as a metric label: lower case letters and '_' only, else `other`."""
    text = str(value or "none").lower()
    return text if len(text) <= 40 and text.replace("_", "").isalpha() else "other"
