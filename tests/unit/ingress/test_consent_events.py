"""Meta's user_preferences field -> ConsentChanged events keyed like the customer's messages."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from schemas.events import ConsentChanged, decode_event, encode_event
from schemas.meta.webhook import WebhookPayload
from schemas.topics import INBOUND
from services.ingress.consent import FIELD, consent_events

DATA = Path(__file__).parents[2] / "data" / "meta" / "v25.0"
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def doc() -> dict[str, Any]:
    return json.loads((DATA / "user_preferences.json").read_text())


def events(d: dict[str, Any]) -> tuple[list[ConsentChanged], int]:
    change = WebhookPayload.model_validate(d).entry[0].changes[0]
    assert change.field == FIELD
    out = consent_events(change.value, NOW)
    assert all(e.topic == INBOUND for e in out.emits)
    return [e.event for e in out.emits], out.skipped  # type: ignore[misc]


def test_a_stop_becomes_an_opt_out_in_the_customers_conversation() -> None:
    [event], skipped = events(doc())
    assert skipped == 0
    assert event.tenant == "100000000000001" and event.conversation == "100000000000001:573001234567"
    p = event.payload
    assert (p.status, p.source, p.category, p.user.wa_id) == ("opted_out", "user_preferences",
                                                              "marketing_messages", "573001234567")
    assert p.timestamp == datetime.fromtimestamp(1731705721, UTC) and event.trace.received_at == NOW
    assert decode_event(encode_event(event)) == event
    again, _ = events(doc())  # Meta redelivering the webhook
    assert again[0].event_id == event.event_id and again[0].correlation_id == event.correlation_id


def test_resume_opts_in_and_a_bsuid_keys_the_conversation() -> None:
    d = doc()
    pref = d["entry"][0]["changes"][0]["value"]["user_preferences"][0]
    pref.update(value="resume", user_id="CO.1297408873021955")
    [event], _ = events(d)
    assert event.payload.status == "opted_in"
    assert event.conversation == "100000000000001:CO.1297408873021955"


def test_unreadable_entries_are_skipped_not_fatal() -> None:
    d = doc()
    good = d["entry"][0]["changes"][0]["value"]["user_preferences"][0]
    d["entry"][0]["changes"][0]["value"]["contacts"] = []
    d["entry"][0]["changes"][0]["value"]["user_preferences"] = [
        good, {**good, "value": "maybe"}, {**good, "wa_id": None}, {**good, "timestamp": "ayer"},
        {**good, "wa_id": "api:x"}, "nonsense"]
    found, skipped = events(d)
    assert len(found) == 1 and skipped == 5



def test_the_event_refuses_a_direct_channel_conversation() -> None:
    [event], _ = events(doc())
    with pytest.raises(ValidationError):
        ConsentChanged.model_validate({**event.model_dump(), "conversation": "100000000000001:api:web-1"})
