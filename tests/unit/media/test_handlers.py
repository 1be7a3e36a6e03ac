"""The media handler: every message goes on in order; media ones carry what they say, or why they cannot."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from prometheus_client import CollectorRegistry

from schemas.events import Media
from schemas.meta.webhook import WebhookPayload
from schemas.topics import INBOUND_UNDERSTOOD
from services.ingress.consent import consent_events
from services.media.handlers import MediaHandler, Ports
from services.media.metrics import MediaMetrics
from services.media.understand.types import Receipt, Transcript
from services.media.understand.understand import Understood
from tests.unit.media.fakes import DownStore, FakeDownloader, FakeUnderstander, downloaded, message
from wapipe.media.download import MediaUnavailable
from wapipe.objectstore.folder import FolderObjectStore
from wapipe.objectstore.port import ObjectStore, content_key
from wapipe.runtime.types import RecordMeta

VOICE = b"OggS voice note bytes"
META = RecordMeta("wa.inbound.v1", 0, 0, None, None)
USER_PREFERENCES = Path(__file__).parents[2] / "data" / "meta" / "v25.0" / "user_preferences.json"
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def _handler(tmp_path: Path, downloader: FakeDownloader, understander: FakeUnderstander,
             store: ObjectStore | None = None) -> tuple[MediaHandler, CollectorRegistry]:
    registry = CollectorRegistry()
    ports = Ports(downloader=downloader, store=store or FolderObjectStore(tmp_path), understander=understander)
    return MediaHandler(ports, MediaMetrics(registry)), registry


def _voice(media_id: str = "m1") -> Media:
    return Media(id=media_id, mime_type="audio/ogg; codecs=opus", sha256="webhook-digest", voice=True)


async def test_a_text_passes_through_unchanged(tmp_path: Path) -> None:
    downloader, understander = FakeDownloader(), FakeUnderstander()
    handler, registry = _handler(tmp_path, downloader, understander)
    text = message(text="¿A qué hora abren?")
    [emit] = await handler(text, META)
    assert emit.topic == INBOUND_UNDERSTOOD and emit.event is text and emit.record_key == text.conversation
    assert downloader.calls == [] and understander.calls == []
    assert registry.get_sample_value("wapipe_media_messages_total",
                                     {"tenant": text.tenant, "kind": "text", "outcome": "passed"}) == 1


async def test_a_consent_change_passes_through_in_order_for_guardrails(tmp_path: Path) -> None:
    handler, _ = _handler(tmp_path, FakeDownloader(), FakeUnderstander())
    [consent] = [e.event for e in consent_events(
        WebhookPayload.model_validate_json(USER_PREFERENCES.read_bytes()).entry[0].changes[0].value, NOW).emits]
    [emit] = await handler(consent, META)
    assert emit.topic == INBOUND_UNDERSTOOD and emit.event is consent and emit.record_key == consent.conversation


async def test_a_voice_note_goes_on_as_its_transcript_and_is_stored(tmp_path: Path) -> None:
    downloader = FakeDownloader({"m1": downloaded(VOICE)})
    transcript = Transcript("¿A qué hora abren?", "es", "faster-whisper/whisper-base", 0.97, 3.2)
    understander = FakeUnderstander({"audio": Understood("audio", transcript.text, transcript=transcript,
                                                         timings={"transcription": 1.5})})
    handler, registry = _handler(tmp_path, downloader, understander)
    note = message("audio", text=None, media=_voice())
    [emit] = await handler(note, META)
    out = emit.event
    assert out.event_id != note.event_id and out.causation_id == note.event_id
    assert out.correlation_id == note.correlation_id and out.conversation == note.conversation
    assert (await handler(note, META))[0].event.event_id == out.event_id  # deterministic on a redelivery
    assert out.payload.message_type == "audio" and out.payload.text == "¿A qué hora abren?"
    u = out.payload.understanding
    assert u is not None and u.status == "understood" and u.failures == []
    assert (u.transcript, u.language, u.confidence, u.model) == (transcript.text, "es", 0.97, transcript.model)
    assert u.object_key == content_key(note.tenant, VOICE) and u.size == len(VOICE)
    stored = await FolderObjectStore(tmp_path).get(u.object_key)
    assert stored is not None and stored.data == VOICE and stored.content_type == "audio/ogg; codecs=opus"
    assert downloader.calls[0] == ("m1", note.tenant, None)
    assert out.trace.decision_path[-1] == "media:understood" and out.trace.stages[-1].stage == "media"
    assert out.trace.attrs["media_transcription_s"] == 1.5 and out.trace.attrs["media_language"] == "es"
    assert registry.get_sample_value("wapipe_media_messages_total",
                                     {"tenant": note.tenant, "kind": "audio", "outcome": "understood"}) == 2
    assert note.payload.understanding is None and note.payload.text is None  # the input event is untouched


async def test_a_receipt_photo_keeps_its_caption_and_carries_the_fields(tmp_path: Path) -> None:
    png = b"\x89PNG receipt"
    receipt = Receipt("Nequi", Decimal("150000"), "COP", "M1234567", date(2025, 3, 15))
    understander = FakeUnderstander({"image": Understood("image", "Ya pagué", ocr_text="Nequi $ 150.000",
                                                         receipt=receipt)})
    handler, _ = _handler(tmp_path, FakeDownloader({"p1": downloaded(png, "image/png")}), understander)
    photo = message("image", text="Ya pagué", media=Media(id="p1", mime_type="image/png", caption="Ya pagué"))
    [emit] = await handler(photo, META)
    u = emit.event.payload.understanding
    assert emit.event.payload.text == "Ya pagué" and understander.calls[0][3] == "Ya pagué"
    assert u is not None and u.receipt is not None
    assert (u.receipt.wallet, u.receipt.amount, u.receipt.reference) == ("Nequi", "150000", "M1234567")
    assert u.receipt.date == date(2025, 3, 15) and u.ocr_text == "Nequi $ 150.000"


async def test_media_that_cannot_be_had_still_goes_on_marked(tmp_path: Path) -> None:
    downloader = FakeDownloader({"m1": MediaUnavailable("m1", "expired", "download URL answered 404", 3)})
    understander = FakeUnderstander()
    handler, registry = _handler(tmp_path, downloader, understander)
    [emit] = await handler(message("audio", text=None, media=_voice()), META)
    u = emit.event.payload.understanding
    assert u is not None and (u.status, u.reason) == ("unavailable", "expired") and u.object_key is None
    assert emit.event.payload.text is None and understander.calls == []
    assert emit.event.trace.decision_path[-1] == "media:unavailable:expired"
    [no_id] = await handler(message("image", text=None, media=Media(mime_type="image/png")), META)
    assert no_id.event.payload.understanding.reason == "no_media_id"  # type: ignore[union-attr]
    assert registry.get_sample_value("wapipe_media_messages_total", {
        "tenant": emit.event.tenant, "kind": "audio", "outcome": "unavailable:expired"}) == 1


async def test_a_store_that_is_down_does_not_stop_the_message(tmp_path: Path) -> None:
    transcript = Transcript("hola", "es", "m")
    understander = FakeUnderstander({"audio": Understood("audio", "hola", transcript=transcript,
                                                         failures=("transcription_failed",))})
    handler, registry = _handler(tmp_path, FakeDownloader({"m1": downloaded(VOICE)}), understander, DownStore())
    [emit] = await handler(message("audio", text=None, media=_voice()), META)
    u = emit.event.payload.understanding
    assert u is not None and u.status == "understood" and u.object_key is None
    assert u.failures == ["store_failed", "transcription_failed"] and emit.event.payload.text == "hola"
    assert registry.get_sample_value("wapipe_media_step_failures_total", {"step": "store"}) == 1
