"""Guardrails on what the media stage understood: transcripts as typed text, photos and documents to the model with
what they show, payment receipts by the tenant's choice, media that could not be had with the fallback wording."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from schemas import topics
from schemas.events import AnswerRequested, HandoffRequested, Media, MessageReceived, ReplyRequested
from schemas.understanding import MediaUnderstanding, ReceiptFields
from services.guardrails.handlers import GuardrailsHandler, Limits, Ports
from services.guardrails.metrics import GuardrailsMetrics
from services.guardrails.route import decide
from tests.fakes.store import MemoryStore
from tests.unit.guardrails.consent_fakes import MemoryConsent
from tests.unit.guardrails.messages import OPEN_AT, inbound, meta
from tests.unit.guardrails.test_handlers import AnswerFakes, Fakes
from wapipe.tenants import MediaPolicy, MediaRule, ReceiptRule, Tenant, TenantRegistry

TENANTS = Path(__file__).parents[3] / "config" / "tenants"


def media_message(kind: str, understanding: MediaUnderstanding | None, *, text: str | None = None,
                  wamid: str = "wamid.M1") -> MessageReceived:
    return inbound(text, wamid=wamid, message_type=kind, understanding=understanding,
                   media=Media(id="m1", mime_type="image/png", caption=None if kind == "audio" else text,
                               voice=kind == "audio"))


def understood(**fields: object) -> MediaUnderstanding:
    return MediaUnderstanding(status="understood", object_key="100000000000001/ab", **fields)  # type: ignore[arg-type]


@pytest.fixture
def demo() -> Tenant:
    tenant = TenantRegistry(TENANTS).get("100000000000001")
    assert tenant is not None
    return tenant


@pytest.fixture
def handler(store: MemoryStore) -> GuardrailsHandler:
    fakes, answers = Fakes(), AnswerFakes()
    ports = Ports(dedupe=fakes, window=fakes, shadow=fakes, flood=fakes, pending=fakes,
                  tenants=TenantRegistry(TENANTS), store=store, answers=answers, moves=answers,  # type: ignore[arg-type]
                  consent=MemoryConsent())
    return GuardrailsHandler(ports, GuardrailsMetrics(CollectorRegistry()), Limits(), clock=lambda: OPEN_AT)


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


async def test_a_voice_note_asking_the_hours_gets_the_hours_answer(handler: GuardrailsHandler,
                                                                   store: MemoryStore) -> None:
    note = media_message("audio", understood(transcript="Hola, ¿a qué hora abren mañana?", language="es"),
                         text="Hola, ¿a qué hora abren mañana?")
    out = await handler(note, meta())
    assert [e.topic for e in out] == [topics.OUTBOUND]
    reply = out[0].event
    assert isinstance(reply, ReplyRequested) and "Nuestro horario" in (reply.payload.text or "")
    assert reply.trace.intent == "horarios" and reply.trace.attrs["rule"].startswith("media:audio:")
    assert store.turns[-1].text == "Hola, ¿a qué hora abren mañana?"  # the model's later context reads the words


async def test_a_photo_with_a_caption_goes_to_the_model_with_what_it_shows(handler: GuardrailsHandler) -> None:
    photo = media_message("image", understood(description="Tenis blancos de cuero con suela gruesa",
                                              ocr_text="AIR 90"), text="¿tienen este en talla 40?")
    out = await handler(photo, meta())
    assert [e.topic for e in out] == [topics.AI_REQUESTS]
    ask = out[0].event
    assert isinstance(ask, AnswerRequested)
    assert ask.payload.text.startswith("[imagen] ¿tienen este en talla 40?")
    assert "Tenis blancos de cuero" in ask.payload.text and "AIR 90" in ask.payload.text


def test_a_document_goes_to_the_model_with_its_text(demo: Tenant) -> None:
    doc = media_message("document", understood(document_text="Cotización: 20 pares de tenis talla 38",
                                               document_pages=1))
    d = decide(doc.payload, demo, OPEN_AT)
    assert (d.route, d.rule) == ("ai", "media:document:understood")


async def test_a_payment_receipt_is_handed_to_a_person_with_its_fields(handler: GuardrailsHandler) -> None:
    receipt = ReceiptFields(wallet="Nequi", amount="150000", currency="COP", reference="M1234567",
                            date=dt.date(2026, 11, 30))
    out = await handler(media_message("image", understood(ocr_text="Nequi Envío exitoso $150.000", receipt=receipt)),
                        meta())
    assert [e.topic for e in out] == [topics.HANDOFF]
    h = out[0].event
    assert isinstance(h, HandoffRequested) and h.payload.reason == "payment_receipt"
    assert h.payload.text == "[comprobante de pago] Nequi · 150000 COP · ref M1234567 · 2026-11-30"


def test_a_tenant_may_acknowledge_receipts_instead(demo: Tenant) -> None:
    tenant = demo.model_copy(update={"media": demo.media.model_copy(update={
        "payment_receipt": ReceiptRule(action="acknowledge", wording="¡Recibimos tu pago! Lo confirmamos pronto.")})})
    msg = media_message("image", understood(receipt=ReceiptFields(wallet="Daviplata", amount="48500")))
    d = decide(msg.payload, tenant, OPEN_AT)
    assert (d.route, d.text) == ("reply", "¡Recibimos tu pago! Lo confirmamos pronto.")


def test_media_that_could_not_be_had_gets_the_fallback_wording(demo: Tenant) -> None:
    for reason in ("expired", "too_large", "sha256_mismatch"):
        msg = media_message("audio", MediaUnderstanding(status="unavailable", reason=reason))
        d = decide(msg.payload, demo, OPEN_AT)
        assert (d.route, d.text) == ("clarify", demo.media.unavailable)
        assert d.rule == f"media:audio:unavailable:{reason}"


def test_a_transcriber_that_failed_gets_the_fallback_wording(demo: Tenant) -> None:
    msg = media_message("audio", understood(failures=["transcription_failed"]))
    d = decide(msg.payload, demo, OPEN_AT)
    assert (d.route, d.rule) == ("clarify", "media:audio:unavailable:transcription_failed")


def test_each_media_type_follows_the_tenants_choice(demo: Tenant) -> None:
    tenant = demo.model_copy(update={"media": MediaPolicy(
        audio=MediaRule(action="refuse", wording="Solo atendemos por escrito."),
        video=MediaRule(action="handoff", reason="video"))})
    audio = decide(media_message("audio", understood(transcript="horario")).payload, tenant, OPEN_AT)
    assert (audio.route, audio.text) == ("refuse", "Solo atendemos por escrito.")
    video = decide(media_message("video", understood(), text="mira").payload, tenant, OPEN_AT)
    assert (video.route, video.reason) == ("handoff", "video")
    # not listed in `media`: the type's non_text rule, as before the media stage
    image = decide(media_message("image", understood(description="unos tenis")).payload, tenant, OPEN_AT)
    assert (image.route, image.rule) == ("handoff", "non_text:image")


def test_a_plain_photo_or_sticker_with_nothing_read_follows_its_non_text_rule(demo: Tenant) -> None:
    assert decide(media_message("sticker", understood()).payload, demo, OPEN_AT).route == "ignore"
    assert decide(media_message("image", understood()).payload, demo, OPEN_AT).rule == "non_text:image"


def test_media_that_never_went_through_the_media_stage_is_decided_as_before(demo: Tenant) -> None:
    d = decide(media_message("audio", None).payload, demo, OPEN_AT)
    assert d.rule == "non_text:audio" and "audios" in (d.text or "")
