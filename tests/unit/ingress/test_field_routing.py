"""Field routing: each webhook field Meta sends reaches the event (or the count) meant for it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from schemas import events as ev
from schemas.events import decode_event, encode_event
from schemas.meta.webhook import WebhookPayload
from schemas.topics import ACCOUNT, INBOUND, STATUS
from services.ingress.normalize import normalize, route_name

DATA = Path(__file__).parents[2] / "data" / "meta" / "v25.0"
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
WABA = "102290129340398"
META_TIME = datetime(2025, 11, 21, 16, 0, tzinfo=UTC)  # entry.time of the samples (1763740800)


def load(name: str) -> WebhookPayload:
    return WebhookPayload.model_validate_json((DATA / f"{name}.json").read_bytes())


@pytest.mark.parametrize(("sample", "topic", "kind"), [
    ("message_text", INBOUND, "MessageReceived"),
    ("status_read", STATUS, "StatusReceived"),
    ("template_status_paused", ACCOUNT, "TemplateStatusChanged"),
    ("template_quality_update", ACCOUNT, "TemplateStatusChanged"),
    ("template_components_update", ACCOUNT, "TemplateStatusChanged"),
    ("template_category_update", ACCOUNT, "TemplateStatusChanged"),
    ("phone_number_quality_update", ACCOUNT, "AccountEventReceived"),
    ("account_update", ACCOUNT, "AccountEventReceived"),
    ("user_preferences", INBOUND, "ConsentChanged"),
])
def test_each_field_becomes_its_event(sample: str, topic: str, kind: str) -> None:
    out = normalize(load(sample), NOW)
    assert [(e.topic, e.event.type) for e in out.emits] == [(topic, kind)]
    assert out.unreadable == [] and out.unknown_fields == set()
    event = out.emits[0].event
    assert decode_event(encode_event(event)) == event
    if topic == ACCOUNT:  # account-level: keyed and addressed by the WhatsApp Business Account
        assert out.emits[0].record_key == WABA and event.tenant == WABA
        assert event.conversation == ev.account_conversation(WABA)
        assert event.occurred_at == META_TIME and event.trace.received_at == NOW


def test_a_paused_template_says_which_template_and_why() -> None:
    e = normalize(load("template_status_paused"), NOW).emits[0].event
    assert isinstance(e, ev.TemplateStatusChanged)
    p = e.payload
    assert (p.field, p.name, p.language, p.event, p.title) == (
        "message_template_status_update", "seguimiento_pedido", "es", "PAUSED", "FIRST_PAUSE")
    assert p.template_id == "1689556908129832" and p.category == "UTILITY"  # Meta sends the id as a number
    assert p.raw["other_info"]["description"].startswith("Your WhatsApp message template has been paused")


def test_quality_and_category_updates_carry_the_change() -> None:
    q = normalize(load("template_quality_update"), NOW).emits[0].event.payload
    c = normalize(load("template_category_update"), NOW).emits[0].event.payload
    assert isinstance(q, ev.TemplateStatusChangedPayload) and isinstance(c, ev.TemplateStatusChangedPayload)
    assert (q.previous_quality, q.quality, q.event) == ("GREEN", "YELLOW", None)
    assert (c.previous_category, c.category) == ("UTILITY", "MARKETING")


def test_number_quality_and_account_updates() -> None:
    q = normalize(load("phone_number_quality_update"), NOW).emits[0].event.payload
    a = normalize(load("account_update"), NOW).emits[0].event.payload
    assert isinstance(q, ev.AccountEventReceivedPayload) and isinstance(a, ev.AccountEventReceivedPayload)
    assert (q.event, q.display_phone_number, q.current_limit) == ("FLAGGED", "15550783881", "TIER_1K")
    assert a.event == "ACCOUNT_RESTRICTION" and a.raw["restriction_info"][0]["restriction_type"]


def test_redelivered_account_webhook_has_the_same_ids_and_a_different_one_does_not() -> None:
    first = normalize(load("template_status_paused"), NOW).emits[0].event
    again = normalize(load("template_status_paused"), datetime(2026, 11, 22, tzinfo=UTC)).emits[0].event
    other = normalize(load("template_status_unpaused"), NOW).emits[0].event
    assert first.event_id == again.event_id and first.correlation_id == again.correlation_id
    assert other.event_id != first.event_id


def test_calls_are_counted_and_publish_nothing() -> None:
    out = normalize(load("calls_connect"), NOW)
    assert out.emits == [] and out.unreadable == []
    assert out.calls == {("100000000000001", "connect"): 1}
    assert out.fields == {"calls": 1}


def test_message_echoes_become_business_echoes_on_the_inbound_topic() -> None:
    out = normalize(load("smb_message_echoes"), NOW)
    assert [(e.topic, e.event.type) for e in out.emits] == [(INBOUND, "BusinessEchoReceived")]
    assert out.unreadable == [] and out.unknown_fields == set()
    assert route_name("smb_message_echoes") == "echoes"


@pytest.mark.parametrize("sample", ["history", "history_declined", "smb_app_state_sync"])
def test_coexistence_sync_fields_are_counted_and_publish_nothing(sample: str) -> None:
    out = normalize(load(sample), NOW)
    assert out.emits == [] and out.unreadable == [] and out.unknown_fields == set()
    assert route_name(sample.removesuffix("_declined")) == "coexistence"


def test_an_unknown_field_is_accepted_counted_and_ignored() -> None:
    out = normalize(load("field_unknown_business_capability_update"), NOW)
    assert out.emits == [] and out.unreadable == []
    assert out.unknown_fields == {"business_capability_update"} and out.fields == {"business_capability_update": 1}
    assert route_name("business_capability_update") == "unknown"
