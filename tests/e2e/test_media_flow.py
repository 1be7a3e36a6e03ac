"""Customers' media through the whole stack (`wapipe up`): real Spanish voice notes (espeak-ng, OGG/Opus) heard by
the embedded Whisper model, a receipt screenshot read by Tesseract, a PDF, and media that cannot be had.

Every media file is uploaded to the simulator (`POST /_sim/media`) and delivered as a signed webhook that references
it, as Meta does; what the customer gets back is read from the simulator's sent messages.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import LocalStack
from tests.media_support import minimal_pdf, receipt_png, voice_note
from wapipe.store import TraceRecord, open_store
from wapipe_tools.local.ports import LOCAL_PORTS

pytestmark = pytest.mark.e2e
SIM = LOCAL_PORTS.url("simulator")
INTERNAL = "573000000099"  # the demo shop's internal number: handoffs are notified there
UNAVAILABLE = "No pudimos abrir lo que nos enviaste"  # the demo tenant's media.unavailable wording
DOCUMENT_CAP = 200_000
# Phrases the base model hears well enough in espeak-ng's synthetic voice (docs/benchmarks.md, "Media": it loses
# "envíos a Medellín", so the shipping question asks for deliveries, "domicilios").
HOURS = "Hola. Necesito saber a qué hora cierran la tienda hoy."
# A vision model (the simulator's) describes photos, with a short timeout so a slow one is given up quickly; a
# document cap small enough to exceed with a test file.
STACK_ENV = {"WAPIPE_MEDIA_VISION": "openai", "WAPIPE_MEDIA_VISION_TIMEOUT_S": "2",
             "WAPIPE_MEDIA_MAX_DOCUMENT_BYTES": str(DOCUMENT_CAP)}


def number() -> str:
    return "5732" + str(uuid.uuid4().int)[:8]


def texts_to(wa_id: str) -> list[str]:
    msgs = httpx.get(f"{SIM}/_sim/messages", params={"to": wa_id}).json()["messages"]
    return [str(m["text"]) for m in msgs if m.get("text")]


def wait_texts(wa_id: str, count: int = 1, timeout: float = 120.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = texts_to(wa_id)
        if len(got) >= count:
            return got
        time.sleep(0.3)
    raise AssertionError(f"{len(texts_to(wa_id))} of {count} replies to {wa_id} within {timeout:.0f}s")


def upload(data: bytes, mime: str, **params: Any) -> dict[str, Any]:
    r = httpx.post(f"{SIM}/_sim/media", content=data, headers={"content-type": mime}, params=params)
    r.raise_for_status()
    info: dict[str, Any] = r.json()
    return info


def send_media(wa_id: str, kind: str, media: dict[str, Any], **extra: Any) -> str:
    obj = {"id": media["id"], "mime_type": media["mime_type"], "sha256": media["webhook_sha256"], **extra}
    r = httpx.post(f"{SIM}/_sim/inbound", json={"from": wa_id, "type": kind, "object": obj})
    r.raise_for_status()
    assert r.json()["ingress_status"] == 200
    return str(r.json()["message_id"])


def send_text(wa_id: str, text: str) -> str:
    r = httpx.post(f"{SIM}/_sim/inbound", json={"from": wa_id, "text": text})
    r.raise_for_status()
    return str(r.json()["message_id"])


def stored_traces(stack: LocalStack, wamid: str) -> list[TraceRecord]:
    async def read() -> list[TraceRecord]:
        store = open_store(str(stack.info["store_url"]))
        try:
            return await store.traces_by_correlation(wamid)
        finally:
            await store.close()

    return asyncio.run(read())


def wait_trace(stack: LocalStack, wamid: str, timeout: float = 60.0) -> TraceRecord:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        traces = stored_traces(stack, wamid)
        if traces:
            return traces[0]
        time.sleep(0.5)
    raise AssertionError(f"no trace stored for {wamid}")


def test_a_spanish_voice_note_asking_the_hours_gets_the_hours_answer(stack: LocalStack, tmp_path: Path) -> None:
    wa_id = number()
    note = upload(voice_note(HOURS, tmp_path), "audio/ogg")
    wamid = send_media(wa_id, "audio", note, voice=True)
    (reply,) = wait_texts(wa_id, timeout=600)  # the model loads at the first voice note
    assert "Nuestro horario" in reply
    trace = wait_trace(stack, wamid)
    attrs = trace.attrs
    assert attrs["media_model"] == "faster-whisper/whisper-base" and attrs["media_language"] == "es"
    assert 0 < attrs["media_confidence"] <= 1
    assert attrs["media_download_s"] >= 0 and attrs["media_transcription_s"] > 0
    assert "media:understood" in trace.decision_path


def test_a_voice_note_asking_for_deliveries_gets_the_shipping_answer(stack: LocalStack, tmp_path: Path) -> None:
    wa_id = number()
    note = upload(voice_note("Hola. ¿Ustedes hacen domicilios?", tmp_path), "audio/ogg")
    send_media(wa_id, "audio", note, voice=True)
    (reply,) = wait_texts(wa_id, timeout=600)
    assert "Servientrega" in reply and "Resto del país" in reply


def test_a_voice_note_and_the_text_after_it_are_answered_in_that_order(stack: LocalStack, tmp_path: Path) -> None:
    wa_id = number()
    note = upload(voice_note(HOURS, tmp_path), "audio/ogg")
    send_media(wa_id, "audio", note, voice=True)
    send_text(wa_id, "¿y dónde queda la tienda?")  # the text is quick to answer, the voice note is not
    first, second = wait_texts(wa_id, 2, timeout=600)
    assert "Nuestro horario" in first and "Calle 80" in second


def test_a_photo_with_a_caption_is_answered_by_the_model(stack: LocalStack) -> None:
    wa_id = number()
    photo = upload(receipt_png([]), "image/png", description="Tenis blancos de cuero, suela gruesa")
    wamid = send_media(wa_id, "image", photo, caption="¿tienen estos en talla 40?")
    (reply,) = wait_texts(wa_id)
    assert reply and UNAVAILABLE not in reply
    trace = wait_trace(stack, wamid)
    assert trace.route == "ai" and "media:understood" in trace.decision_path


def test_a_payment_receipt_is_handed_to_a_person_with_its_fields(stack: LocalStack) -> None:
    httpx.post(f"{SIM}/_sim/window", json={"to": INTERNAL}).raise_for_status()
    wa_id = number()
    receipt = upload(receipt_png(["Nequi", "Pago exitoso", "Enviaste", "$ 150.000", "Referencia M7654321",
                                  "15 de marzo de 2025"]), "image/png")
    send_media(wa_id, "image", receipt, caption="ya pagué")
    (told,) = wait_texts(wa_id)
    assert "asesor" in told  # the tenant's handoff wording
    deadline = time.monotonic() + 60
    while not any("M7654321" in t for t in texts_to(INTERNAL)) and time.monotonic() < deadline:
        time.sleep(0.3)
    note = next(t for t in texts_to(INTERNAL) if "M7654321" in t)
    assert "payment_receipt" in note and "Nequi" in note and "150000" in note


def test_a_pdf_goes_to_the_model_with_its_text(stack: LocalStack) -> None:
    wa_id = number()
    pdf = upload(minimal_pdf([["Cotizacion para la empresa", "20 pares de tenis blancos talla 38"]]),
                 "application/pdf", filename="cotizacion.pdf")
    wamid = send_media(wa_id, "document", pdf, filename="cotizacion.pdf")
    (reply,) = wait_texts(wa_id)
    assert UNAVAILABLE not in reply
    trace = wait_trace(stack, wamid)
    assert trace.attrs["rule"] == "media:document:understood"


@pytest.mark.parametrize(("what", "fault"), [("expired URL", "expired"), ("wrong sha256", "wrong_sha256")])
def test_media_that_cannot_be_had_gets_the_fallback_wording(stack: LocalStack, what: str, fault: str) -> None:
    wa_id = number()
    photo = upload(receipt_png(["Nequi", "$ 20.000"]), "image/png", fault=fault)
    wamid = send_media(wa_id, "image", photo, caption="mira")
    (reply,) = wait_texts(wa_id)
    assert reply.startswith(UNAVAILABLE), what
    reason = {"expired": "expired", "wrong_sha256": "sha256_mismatch"}[fault]
    assert f"media:unavailable:{reason}" in wait_trace(stack, wamid).decision_path


def test_oversized_media_gets_the_fallback_wording(stack: LocalStack) -> None:
    wa_id = number()
    big = upload(b"lista de precios\n" * (DOCUMENT_CAP // 16), "text/plain", filename="precios.txt")
    wamid = send_media(wa_id, "document", big, filename="precios.txt")
    (reply,) = wait_texts(wa_id)
    assert reply.startswith(UNAVAILABLE)
    assert "media:unavailable:too_large" in wait_trace(stack, wamid).decision_path


def test_a_slow_vision_model_is_given_up_and_the_photo_still_answered(stack: LocalStack) -> None:
    httpx.post(f"{SIM}/_sim/llm", json={"latency_s": 3.0}).raise_for_status()  # beyond the 2 s vision timeout
    try:
        wa_id = number()
        photo = upload(receipt_png([]), "image/png", description="unas botas cafe")
        wamid = send_media(wa_id, "image", photo, caption="¿tienen estas botas?")
        (reply,) = wait_texts(wa_id)
    finally:
        httpx.post(f"{SIM}/_sim/llm", json={"latency_s": 0.0}).raise_for_status()
    assert reply and UNAVAILABLE not in reply  # the caption went to the model without the description
    trace = wait_trace(stack, wamid)
    assert trace.route == "ai" and trace.attrs["media_vision_s"] >= 2
