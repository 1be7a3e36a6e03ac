"""What the console shows of a media message: the card read from the media stage's understanding, the headers
the bytes are served with, and the worker keeping cards only from wa.inbound.understood.v1."""

from __future__ import annotations

from datetime import date

from schemas.events import Media, MessageReceived
from schemas.understanding import MediaUnderstanding, ReceiptFields
from services.console.inbox import Inbox, InboxChange
from services.console.media import MediaCard, card_of, media_response_headers, serve_type
from tests.fakes.store import MemoryStore
from tests.unit.notifier.events import TENANT, conv, message
from wapipe.runtime.types import RecordMeta

KEY = f"{TENANT}/{'a' * 64}"


def understood(wamid: str, message_type: str, mime: str, u: MediaUnderstanding, **media: object) -> MessageReceived:
    m = message(wamid, None, message_type=message_type)
    payload = m.payload.model_copy(update={"media": Media(id="media-1", mime_type=mime, **media),  # type: ignore[arg-type]
                                           "understanding": u})
    return m.model_copy(update={"payload": payload})


def test_a_voice_note_card_has_its_key_and_transcript() -> None:
    u = MediaUnderstanding(status="understood", object_key=KEY, transcript="quiero unas botas talla 40")
    card = card_of(understood("wamid.V1", "audio", "audio/ogg; codecs=opus", u, voice=True))
    assert card is not None and card.servable
    assert (card.kind, card.object_key, card.transcript, card.voice) == ("audio", KEY, "quiero unas botas talla 40",
                                                                         True)
    assert serve_type(card, "application/octet-stream") == "audio/ogg"
    assert MediaCard.from_json(card.to_json()) == card


def test_receipts_documents_and_unavailable_media() -> None:
    receipt = card_of(understood("wamid.R1", "image", "image/jpeg", MediaUnderstanding(
        status="understood", object_key=KEY, ocr_text="Nequi 150000", receipt=ReceiptFields(
            wallet="Nequi", amount="150000", currency="COP", date=date(2026, 11, 30)))))
    assert receipt is not None and receipt.kind == "image"
    assert receipt.receipt == {"wallet": "Nequi", "amount": "150000", "currency": "COP", "date": "2026-11-30"}
    text = "\n".join(f"línea {i}" for i in range(1, 20))
    doc = card_of(understood("wamid.D1", "document", "application/pdf", MediaUnderstanding(
        status="understood", object_key=KEY, document_text=text, document_pages=3), filename="pedido.pdf"))
    assert doc is not None and doc.preview == "línea 1\nlínea 2\nlínea 3\nlínea 4\nlínea 5" and doc.pages == 3
    gone = card_of(understood("wamid.X1", "sticker", "image/webp", MediaUnderstanding(status="unavailable",
                                                                                       reason="expired")))
    assert gone is not None and not gone.servable and (gone.kind, gone.reason) == ("image", "expired")
    assert card_of(message("wamid.T1", "hola")) is None  # a text has no card


def test_a_key_outside_the_messages_tenant_is_never_kept() -> None:
    u = MediaUnderstanding(status="understood", object_key=f"100000000000999/{'b' * 64}")
    card = card_of(understood("wamid.V2", "audio", "audio/ogg", u))
    assert card is not None and card.object_key is None and not card.servable


def test_bytes_are_served_inline_only_for_images_and_sound_and_never_sniffed() -> None:
    card = MediaCard("wamid.D1", "document", "text/html", "understood", KEY, filename="../../x y.html")
    headers = media_response_headers(card, serve_type(card, ""))
    assert headers["Content-Disposition"] == 'attachment; filename="....xy.html"'
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in headers["Content-Security-Policy"] and "sandbox" in headers[
        "Content-Security-Policy"]
    image = MediaCard("wamid.I1", "image", "image/jpeg", "understood", KEY)
    assert media_response_headers(image, "image/jpeg")["Content-Disposition"].startswith("inline;")


class Recorder:
    def __init__(self) -> None:
        self.applied: list[InboxChange] = []
        self.announced: list[InboxChange] = []
        self.cards: list[tuple[str, MediaCard]] = []

    async def apply(self, change: InboxChange) -> None:
        self.applied.append(change)

    async def announce(self, change: InboxChange) -> None:
        self.announced.append(change)

    async def put(self, conversation: str, card: MediaCard) -> None:
        self.cards.append((conversation, card))


def meta(topic: str) -> RecordMeta:
    return RecordMeta(topic=topic, partition=0, offset=1, key=None, timestamp_ms=None)


async def test_cards_come_from_the_understood_topic_and_messages_from_the_inbound_one() -> None:
    rec = Recorder()
    inbox = Inbox(rec, MemoryStore(), rec)
    event = understood("wamid.V1", "audio", "audio/ogg", MediaUnderstanding(status="understood", object_key=KEY,
                                                                          transcript="hola"))
    await inbox.handle(event, meta("dev.wa.inbound.understood.v1"))  # a topic prefix changes nothing
    assert [c for _, c in rec.cards] == [card_of(event)] and rec.cards[0][0] == conv()
    assert rec.applied == [] and [a.kind for a in rec.announced] == ["media"]  # counted once, from wa.inbound.v1
    await inbox.handle(message("wamid.T1", "hola"), meta("wa.inbound.understood.v1"))  # a text: nothing
    assert len(rec.cards) == 1 and rec.applied == []
    await inbox.handle(event, meta("wa.inbound.v1"))
    assert len(rec.cards) == 1 and [a.kind for a in rec.applied] == ["message"]
