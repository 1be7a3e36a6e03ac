"""Ingress dispatches on `change.field` (real broker): each field Meta sends reaches its topic as its event; calls
and unknown fields are accepted, counted and publish nothing but the raw body."""

from __future__ import annotations

import logging

import pytest

from schemas.events import AccountEventReceived, BusinessEchoReceived, ConsentChanged, TemplateStatusChanged
from schemas.topics import ACCOUNT, INBOUND, RAW_WEBHOOKS, STATUS
from tests.integration.ingress.conftest import Ingress, sample
from tests.support import read_topic

WABA = "102290129340398"
TENANT = "100000000000001"
ACCOUNT_SAMPLES = {  # sample -> (event type, field)
    "template_status_paused": ("TemplateStatusChanged", "message_template_status_update"),
    "template_quality_update": ("TemplateStatusChanged", "message_template_quality_update"),
    "template_components_update": ("TemplateStatusChanged", "message_template_components_update"),
    "template_category_update": ("TemplateStatusChanged", "template_category_update"),
    "phone_number_quality_update": ("AccountEventReceived", "phone_number_quality_update"),
    "account_update": ("AccountEventReceived", "account_update"),
}


async def test_each_field_is_routed_to_its_event(ingress: Ingress) -> None:
    for name in (*ACCOUNT_SAMPLES, "message_text", "status_read", "user_preferences"):
        r = await ingress.post_webhook(sample(name))
        assert (r.status_code, r.json()) == (200, {"events": 1}), name
    account = read_topic(ingress.bootstrap, ingress.prefix + ACCOUNT, expect=len(ACCOUNT_SAMPLES))
    got = set()
    for rec in account:
        e = rec.event()
        assert isinstance(e, TemplateStatusChanged | AccountEventReceived)
        assert rec.key == WABA and e.tenant == WABA
        got.add((e.type, e.payload.field))
    assert got == set(ACCOUNT_SAMPLES.values()) and len(account) == len(ACCOUNT_SAMPLES)
    inbound = [r.event() for r in read_topic(ingress.bootstrap, ingress.prefix + INBOUND, expect=2)]
    assert sorted(e.type for e in inbound) == ["ConsentChanged", "MessageReceived"]  # user_preferences -> consent
    [consent] = [e for e in inbound if isinstance(e, ConsentChanged)]
    assert consent.tenant == TENANT and consent.payload.status == "opted_out"
    assert len(read_topic(ingress.bootstrap, ingress.prefix + STATUS, expect=1)) == 1
    assert ingress.metric("wapipe_account_events_total", {
        "account": WABA, "field": "message_template_status_update", "event": "paused"}) == 1
    assert ingress.metric("wapipe_account_events_total", {
        "account": WABA, "field": "phone_number_quality_update", "event": "flagged"}) == 1
    assert ingress.metric("wapipe_webhook_changes_total", {"field": "account_update", "route": "account"}) == 1
    assert ingress.metric("wapipe_webhook_changes_total", {"field": "user_preferences", "route": "consent"}) == 1


async def test_calls_are_recorded_without_numbers_and_ignored(ingress: Ingress,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="services.ingress")
    r = await ingress.post_webhook(sample("calls_connect"))
    assert (r.status_code, r.json()) == (200, {"events": 0})
    assert ingress.metric("wapipe_webhook_calls_total", {"tenant": TENANT, "event": "connect"}) == 1
    assert ingress.metric("wapipe_webhook_changes_total", {"field": "calls", "route": "calls"}) == 1
    logged = "\n".join(rec.getMessage() for rec in caplog.records)
    assert "calling is not supported" in logged and "573001234567" not in logged
    for topic in (INBOUND, STATUS, ACCOUNT):
        assert read_topic(ingress.bootstrap, ingress.prefix + topic, idle=0.5) == []
    assert len(read_topic(ingress.bootstrap, ingress.prefix + RAW_WEBHOOKS, expect=1)) == 1


async def test_an_unknown_field_is_accepted_counted_and_logged_once(ingress: Ingress,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="services.ingress")
    for _ in range(3):
        r = await ingress.post_webhook(sample("field_unknown_business_capability_update"))
        assert (r.status_code, r.json()) == (200, {"events": 0})
    assert ingress.metric("wapipe_webhook_changes_total",
                          {"field": "business_capability_update", "route": "unknown"}) == 3
    notes = [rec for rec in caplog.records if "business_capability_update" in rec.getMessage()]
    assert len(notes) == 1 and "not handled" in notes[0].getMessage()
    assert len(read_topic(ingress.bootstrap, ingress.prefix + RAW_WEBHOOKS, expect=3)) == 3


async def test_an_echo_is_published_on_the_customers_key_through_the_identity_map(ingress: Ingress) -> None:
    # The customer first wrote with both ids (their key is the BSUID's); the app's echo names only their number.
    r = await ingress.post_webhook(sample("message_text"))
    assert (r.status_code, r.json()) == (200, {"events": 1})
    r = await ingress.post_webhook(sample("smb_message_echoes"))
    assert (r.status_code, r.json()) == (200, {"events": 1})
    records = read_topic(ingress.bootstrap, ingress.prefix + INBOUND, expect=2)
    assert [r.event().type for r in records] == ["MessageReceived", "BusinessEchoReceived"]
    key = f"{TENANT}:CO.1297408873021955"
    assert {r.key for r in records} == {key} and len({r.partition for r in records}) == 1  # one order
    [echo] = [r.event() for r in records if isinstance(r.event(), BusinessEchoReceived)]
    assert echo.conversation == key and echo.payload.to.wa_id == "573001234567"
    assert ingress.metric("wapipe_webhook_changes_total", {"field": "smb_message_echoes", "route": "echoes"}) == 1
    assert ingress.metric("wapipe_events_published_total", {"type": "BusinessEchoReceived", "tenant": TENANT}) == 1


async def test_history_and_app_contacts_are_accepted_counted_and_not_published(
        ingress: Ingress, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="services.ingress")
    for name in ("history", "history_declined", "smb_app_state_sync"):
        r = await ingress.post_webhook(sample(name))
        assert (r.status_code, r.json()) == (200, {"events": 0}), name
    assert ingress.metric("wapipe_webhook_coexistence_total",
                          {"tenant": TENANT, "field": "history", "item": "message"}) == 2
    assert ingress.metric("wapipe_webhook_coexistence_total",
                          {"tenant": TENANT, "field": "history", "item": "declined"}) == 1
    assert ingress.metric("wapipe_webhook_coexistence_total",
                          {"tenant": TENANT, "field": "smb_app_state_sync", "item": "add"}) == 1
    assert ingress.metric("wapipe_webhook_changes_total", {"field": "history", "route": "coexistence"}) == 2
    logged = "\n".join(rec.getMessage() for rec in caplog.records)
    assert "not imported" in logged and "573001234567" not in logged and "Valentina" not in logged
    assert read_topic(ingress.bootstrap, ingress.prefix + INBOUND, idle=0.5) == []
    assert len(read_topic(ingress.bootstrap, ingress.prefix + RAW_WEBHOOKS, expect=3)) == 3  # kept as sent
