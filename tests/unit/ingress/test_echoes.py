"""Echoes (the business writing from the WhatsApp Business app, `smb_message_echoes`) and the other coexistence
fields: what ingress makes of Meta's shapes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from schemas.envelope import conversation_key, derive_id
from schemas.events import BusinessEchoReceived, decode_event, encode_event
from schemas.meta.webhook import WebhookPayload
from schemas.topics import INBOUND
from services.ingress.normalize import count_updates, normalize

DATA = Path(__file__).parents[2] / "data" / "meta" / "v25.0"
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
TENANT = "100000000000001"
CUSTOMER = "573001234567"


def raw(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text())
    return doc


def echoes(doc: dict[str, Any]) -> list[BusinessEchoReceived]:
    out = normalize(WebhookPayload.model_validate(doc), NOW)
    assert out.unreadable == []
    assert {e.topic for e in out.emits} <= {INBOUND}
    events = [e.event for e in out.emits]
    assert all(isinstance(e, BusinessEchoReceived) for e in events)
    for e in events:  # survives the wire format guardrails decodes
        assert decode_event(encode_event(e)) == e
    return events  # type: ignore[return-value]


def test_a_text_echo_is_the_business_speaking_to_the_customer() -> None:
    [echo] = echoes(raw("smb_message_echoes"))
    p = echo.payload
    wamid = "wamid.HBgMNTczMDAxMjM0NTY3FQIAERgSRUNITzAwMDAwMDAwMDAwMDAA"
    assert p.to.wa_id == CUSTOMER and p.to.user_id is None
    assert p.business_number == "15550783881"
    assert p.message_type == "text" and p.text == "Hola Valentina, ya te separé las botas 👢"
    assert echo.conversation == conversation_key(TENANT, CUSTOMER)  # the customer's key, not the business's
    assert echo.tenant == TENANT and echo.correlation_id == wamid and p.message_id == wamid
    assert echo.event_id == derive_id("echo", wamid)
    assert echo.occurred_at == p.timestamp == datetime.fromtimestamp(1763740800, UTC)
    assert echo.trace.received_at == NOW
    assert p.raw["to"] == CUSTOMER  # Meta's object kept as sent


def test_media_location_and_voice_echoes_carry_their_content() -> None:
    image, location, voice = echoes(raw("smb_message_echoes_media"))
    assert image.payload.message_type == "image"
    assert image.payload.text == "Estas son las botas en talla 38"
    assert image.payload.media is not None and image.payload.media.id == "1234567890123456"
    # Meta's reference shows `to` as it was addressed, with a '+': the customer's wa_id is the digits.
    assert image.payload.to.wa_id == CUSTOMER and image.conversation == conversation_key(TENANT, CUSTOMER)
    assert location.payload.location is not None and location.payload.location.name == "Tienda Demo Chapinero"
    # With business-scoped user ids the echo names the customer by both; the key prefers the BSUID (and ingress's
    # identity map then gives it the customer's one key, whichever id came first).
    assert location.payload.to.user_id == "CO.1234567890123456"
    assert location.conversation == conversation_key(TENANT, "CO.1234567890123456")
    assert voice.payload.media is not None and voice.payload.media.voice and voice.payload.text is None


def test_edit_and_revoke_echoes_name_the_message_they_change() -> None:
    edit, revoke = echoes(raw("smb_message_echoes_edit_revoke"))
    assert edit.payload.message_type == "edit"
    assert edit.payload.text == "Hola Valentina, ya te separé las botas negras 👢"
    assert edit.payload.original_message_id == "wamid.HBgMNTczMDAxMjM0NTY3FQIAERgSRUNITzAwMDAwMDAwMDAwMDAA"
    assert revoke.payload.message_type == "revoke" and revoke.payload.text is None
    assert revoke.payload.original_message_id == "wamid.HBgMNTczMDAxMjM0NTY3FQIAERgSRUNITzAwMDAwMDAwMDAwMDAB"


def test_a_redelivered_echo_has_the_same_ids() -> None:
    [first] = echoes(raw("smb_message_echoes"))
    [again] = echoes(raw("smb_message_echoes"))
    assert (again.event_id, again.correlation_id) == (first.event_id, first.correlation_id)


def test_an_echo_without_a_customer_is_skipped_and_an_unreadable_one_set_aside() -> None:
    doc = raw("smb_message_echoes_media")
    value = doc["entry"][0]["changes"][0]["value"]
    del value["message_echoes"][0]["to"]  # nobody to attribute it to: skipped, counted
    del value["message_echoes"][1]["id"]  # not a message object: set aside for the raw log's DLQ
    out = normalize(WebhookPayload.model_validate(doc), NOW)
    assert [e.event.payload.message_id for e in out.emits] == [value["message_echoes"][2]["id"]]
    assert out.skipped == 1
    [aside] = out.unreadable
    assert aside.path == "entry[0].changes[0].value.message_echoes[1]" and aside.kind == "echo"
    assert aside.field == "smb_message_echoes" and aside.key == TENANT


def test_echoes_without_metadata_are_set_aside_whole() -> None:
    doc = raw("smb_message_echoes")
    del doc["entry"][0]["changes"][0]["value"]["metadata"]
    out = normalize(WebhookPayload.model_validate(doc), NOW)
    assert out.emits == []
    [aside] = out.unreadable
    assert aside.kind == "change" and "metadata" in aside.error


def test_echoes_count_toward_the_update_cap() -> None:
    assert count_updates(WebhookPayload.model_validate(raw("smb_message_echoes_media"))) == 3


def test_history_is_counted_by_message_and_a_declined_share_by_its_error() -> None:
    out = normalize(WebhookPayload.model_validate(raw("history")), NOW)
    assert out.emits == [] and out.coexistence == {(TENANT, "history", "message"): 2}
    declined = normalize(WebhookPayload.model_validate(raw("history_declined")), NOW)
    assert declined.emits == [] and declined.coexistence == {(TENANT, "history", "declined"): 1}


def test_app_contacts_are_counted_by_action_and_never_published() -> None:
    out = normalize(WebhookPayload.model_validate(raw("smb_app_state_sync")), NOW)
    assert out.emits == [] and out.unreadable == []
    assert out.coexistence == {(TENANT, "smb_app_state_sync", "add"): 1,
                               (TENANT, "smb_app_state_sync", "remove"): 1}
