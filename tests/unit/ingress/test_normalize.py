"""normalize: every captured sample type becomes the event a downstream stage can act on."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from schemas.events import MessageReceived, StatusReceived, decode_event, encode_event
from schemas.meta.webhook import UnsupportedMessage, WebhookPayload
from schemas.topics import INBOUND, STATUS
from services.ingress.normalize import normalize

DATA = Path(__file__).parents[2] / "data" / "meta" / "v25.0"
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
TENANT = "100000000000001"
BSUID = "CO.1297408873021955"


def load(name: str) -> WebhookPayload:
    return WebhookPayload.model_validate_json((DATA / f"{name}.json").read_bytes())


def one_message(name: str) -> MessageReceived:
    out = normalize(load(name), NOW)
    assert len(out.emits) == 1 and out.emits[0].topic == INBOUND
    event = out.emits[0].event
    assert isinstance(event, MessageReceived)
    # survives the wire format every consumer decodes
    assert decode_event(encode_event(event)) == event
    return event


def test_every_sample_parses_and_normalizes() -> None:
    files = sorted(DATA.glob("*.json"))
    assert len(files) >= 25
    for f in files:
        normalize(WebhookPayload.model_validate_json(f.read_bytes()), NOW)


def test_text_keyed_by_bsuid_with_ids_stable_across_redeliveries() -> None:
    e = one_message("message_text")
    p = e.payload
    assert e.tenant == TENANT and e.conversation == f"{TENANT}:{BSUID}"
    assert p.sender.wa_id == "573001234567" and p.sender.user_id == BSUID
    assert p.text is not None and p.text.startswith("Hola 👋") and p.profile_name == "Valentina Gómez"
    assert p.timestamp == datetime(2025, 11, 21, 16, 0, tzinfo=UTC) == e.occurred_at
    assert e.trace.received_at == NOW and e.correlation_id == p.message_id
    assert one_message("message_text").event_id == e.event_id


def test_bsuid_only_sender_has_no_phone() -> None:
    e = one_message("message_text_bsuid_only")
    assert e.payload.sender.wa_id is None and e.conversation == f"{TENANT}:{BSUID}"


def test_phone_only_sender_keyed_by_wa_id() -> None:
    out = normalize(load("batch_multi_entry"), NOW)
    mx = [em.event for em in out.emits if em.event.tenant == "100000000000002" and em.topic == INBOUND]
    assert mx[0].conversation == "100000000000002:5215512345678"


@pytest.mark.parametrize(("name", "kind", "text", "reply_id"), [
    ("message_image", "image", "¿Lo tienen en azul?", None),
    ("message_video", "video", "Así me llegó el pedido 😕", None),
    ("message_document", "document", "Comprobante de pago", None),
    ("message_sticker", "sticker", None, None),
    ("message_audio", "audio", None, None),
    ("message_interactive_button_reply", "interactive", "Horarios", "horarios"),
    ("message_interactive_list_reply", "interactive", "Envío nacional", "envio_nacional"),
    ("message_button", "button", "Sí, confirmar", "CONFIRMAR_PEDIDO"),
    ("message_order", "order", "Los quiero para el viernes", None),
    ("message_contacts", "contacts", "Andrés Peña", None),
    ("message_system", "system", "User A changed from 573001234567 to 573009876543", None),
])
def test_message_types(name: str, kind: str, text: str | None, reply_id: str | None) -> None:
    p = one_message(name).payload
    assert (p.message_type, p.text, p.reply_id) == (kind, text, reply_id)
    assert p.raw["type"] == kind


def test_an_order_carries_its_items() -> None:
    order = one_message("message_order").payload.order
    assert order is not None and order.catalog_id == "1354235123431241" and order.text == "Los quiero para el viernes"
    assert [(i.product_retailer_id, i.quantity, i.item_price, i.currency) for i in order.items] == [
        ("tenis-run-negro-40", 1, 289900, "COP"), ("medias-pack-3", 2, 29900, "COP")]
    assert one_message("message_text").payload.order is None


def test_media_and_voice_note() -> None:
    doc = one_message("message_document").payload.media
    assert doc is not None and doc.filename == "comprobante_nequi_ñandú.pdf" and doc.id == "1209384756102938"
    voice = one_message("message_voice").payload.media
    assert voice is not None and voice.voice and voice.mime_type == "audio/ogg; codecs=opus"


def test_flow_reply_becomes_the_flows_fields() -> None:
    p = one_message("message_interactive_nfm_reply").payload
    assert p.flow is not None and p.flow.fields == {"talla": "40", "color": "negro"}
    assert (p.flow.name, p.flow.flow_token, p.flow.body) == ("flow", "tok-8812", "Sent")
    assert p.text == "talla: 40\ncolor: negro" and p.reply_id == "flow"


def test_flow_reply_whose_json_is_not_an_object_has_no_fields() -> None:
    doc = json.loads((DATA / "message_interactive_nfm_reply.json").read_text())
    doc["entry"][0]["changes"][0]["value"]["messages"][0]["interactive"]["nfm_reply"]["response_json"] = "[1, 2"
    p = normalize(WebhookPayload.model_validate(doc), NOW).emits[0].event.payload
    assert p.flow is not None and p.flow.fields == {} and p.text == "Sent"


def test_edit_carries_the_original_id_and_the_new_text() -> None:
    p = one_message("message_edit").payload
    assert p.message_type == "edit" and p.original_message_id == one_message("message_text").payload.message_id
    assert p.text == "Hola 👋 ¿tienen tenis Nike talla 41 en blanco?"
    assert one_message("message_edit_caption").payload.text == "¿Lo tienen en verde?"


def test_the_message_edit_spelling_is_read_as_an_edit() -> None:
    doc = json.loads((DATA / "message_edit.json").read_text())
    msg = doc["entry"][0]["changes"][0]["value"]["messages"][0]
    msg["type"], msg["message_edit"] = "message_edit", {"mid": "wamid.ORIG", "text": "nuevo texto"}
    del msg["edit"]
    p = normalize(WebhookPayload.model_validate(doc), NOW).emits[0].event.payload
    assert (p.message_type, p.original_message_id, p.text) == ("edit", "wamid.ORIG", "nuevo texto")


def test_revoke_carries_the_deleted_id_and_no_text() -> None:
    p = one_message("message_revoke").payload
    assert p.message_type == "revoke" and p.text is None
    assert p.original_message_id == one_message("message_text").payload.message_id


@pytest.mark.parametrize(("name", "previous", "current"), [
    ("message_system", ("573001234567", None), ("573009876543", None)),
    ("message_system_user_changed_number", ("573001234567", BSUID), ("573009876543", "CO.5550001112223334")),
    ("message_system_user_changed_user_id", (None, BSUID), (None, "CO.7778889990001112")),
    ("message_system_identity_changed", (None, None), (None, None)),
])
def test_system_messages_say_which_ids_they_replace(name: str, previous: tuple[str | None, str | None],
                                                    current: tuple[str | None, str | None]) -> None:
    e = one_message(name)
    change = e.payload.system
    assert change is not None and e.payload.message_type == "system"
    assert (change.previous.wa_id, change.previous.user_id) == previous
    assert (change.current.wa_id, change.current.user_id) == current
    assert e.conversation == f"{TENANT}:{e.payload.sender.user}"  # the raw key; ingress resolves the customer's


def test_location_reaction_context_referral() -> None:
    loc = one_message("message_location").payload.location
    assert loc is not None and (loc.latitude, loc.name) == (4.6486259, "Parque de la 93")
    r = one_message("message_reaction").payload.reaction
    assert r is not None and r.emoji == "❤️" and r.message_id.startswith("wamid.")
    ctx = one_message("message_text_context").payload.context
    assert ctx is not None and ctx.message_id and ctx.referred_product
    ref = one_message("message_text_referral").payload.referral
    assert ref is not None and ref["source_type"] == "ad" and ref["ctwa_clid"]


def test_unsupported_and_unknown_types_keep_raw_and_errors() -> None:
    e = one_message("message_unsupported")
    assert e.payload.message_type == "unsupported" and e.payload.raw["errors"][0]["code"] == 131051
    assert [err.code for err in normalize(load("message_unsupported"), NOW).errors] == [131051]
    u = one_message("message_unknown_type")
    assert u.payload.message_type == "unsupported" and u.payload.raw["type"] == "album"
    assert u.payload.raw["album"]["count"] == 3
    msg = load("message_unknown_type").entry[0].changes[0].value.messages[0]
    assert isinstance(msg, UnsupportedMessage)


@pytest.mark.parametrize("status", ["sent", "delivered", "read", "failed", "played"])
def test_statuses(status: str) -> None:
    out = normalize(load(f"status_{status}"), NOW)
    assert [em.topic for em in out.emits] == [STATUS]
    e = out.emits[0].event
    assert isinstance(e, StatusReceived) and e.payload.status == status
    assert e.conversation == f"{TENANT}:{BSUID}"
    if status == "failed":
        assert e.payload.errors[0].code == 131047 and e.payload.errors[0].details
        assert [err.code for err in out.errors] == [131047]
    if status == "sent":
        assert e.payload.pricing and e.payload.conversation_id and e.payload.biz_opaque_callback_data == "reply:7f3a"


def test_status_ids_differ_per_status_of_one_message() -> None:
    ids = {normalize(load(f"status_{s}"), NOW).emits[0].event.event_id for s in ("sent", "delivered", "read")}
    assert len(ids) == 3


def test_errors_change_is_reported_not_published() -> None:
    out = normalize(load("errors"), NOW)
    assert out.emits == [] and [e.code for e in out.errors] == [130429]


def test_batch_yields_every_update() -> None:
    out = normalize(load("batch_multi_entry"), NOW)
    assert sorted(em.topic for em in out.emits) == [INBOUND] * 4 + [STATUS] * 2
    assert len({em.event.event_id for em in out.emits}) == 6
    assert {em.event.tenant for em in out.emits} == {TENANT, "100000000000002"}


def test_unknown_status_value_is_skipped_not_fatal() -> None:
    doc = json.loads((DATA / "status_read.json").read_text())
    doc["entry"][0]["changes"][0]["value"]["statuses"][0]["status"] = "pending_new_state"
    out = normalize(WebhookPayload.model_validate(doc), NOW)
    assert out.emits == [] and out.skipped == 1


def test_a_template_update_that_names_no_template_is_set_aside_not_published() -> None:
    doc = {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [
        {"field": "message_template_status_update", "value": {"event": "APPROVED", "message_template_id": 9}}]}]}
    out = normalize(WebhookPayload.model_validate(doc), NOW)
    assert out.emits == []
    [part] = out.unreadable
    assert (part.kind, part.path, part.field) == ("change", "entry[0].changes[0]", "message_template_status_update")
    assert "message_template_name" in part.error and part.raw["value"]["message_template_id"] == 9


@pytest.mark.parametrize("field", ["from", "from_user_id"])
def test_a_whatsapp_id_with_a_colon_is_refused(field: str) -> None:
    """`api:<id>` is the direct channel's namespace: no webhook may name a user there (or anything with ':')."""
    doc = json.loads((DATA / "message_text.json").read_bytes())
    value = doc["entry"][0]["changes"][0]["value"]
    value["messages"][0][field] = "api:573001234567"
    value["contacts"][0]["wa_id" if field == "from" else "user_id"] = "api:573001234567"
    out = normalize(WebhookPayload.model_validate(doc), NOW)
    assert out.emits == [] and out.skipped == 1


def test_a_status_for_an_id_with_a_colon_is_refused() -> None:
    doc = json.loads((DATA / "status_failed.json").read_bytes())
    for st in doc["entry"][0]["changes"][0]["value"]["statuses"]:
        st["recipient_id"] = "api:573001234567"
        st.pop("recipient_user_id", None)
    out = normalize(WebhookPayload.model_validate(doc), NOW)
    assert out.emits == [] and out.skipped >= 1
