"""While a person has the conversation, a customer's photo, voice note or document reaches the internal numbers as
itself: by the media stage's object-store key when it stored the bytes, else by the customer's media id."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry

from schemas.events import Media, MessageReceived, ReplyRequested
from schemas.understanding import MediaUnderstanding
from services.notifier.handlers import Notifier
from services.notifier.metrics import NotifierMetrics
from tests.fakes.store import MemoryStore
from tests.unit.notifier.events import CUSTOMER, INTERNAL, handoff, message
from tests.unit.notifier.fakes import FakeState, FakeTenants, demo_tenant
from wapipe.runtime.types import RecordMeta

META = RecordMeta(topic="t", partition=0, offset=0, key=None, timestamp_ms=None)
SECOND = "573000000088"
KEY = "100000000000001/" + "a" * 64


def media_message(wamid: str, kind: str, *, caption: str | None = None, object_key: str | None = None,
                  n: int = 1) -> MessageReceived:
    m = message(wamid, caption, message_type=kind, at=datetime.now(UTC) + timedelta(seconds=n))
    mime = {"image": "image/jpeg", "audio": "audio/ogg", "document": "application/pdf"}[kind]
    understanding = MediaUnderstanding(status="understood", object_key=object_key) if object_key else None
    payload = m.payload.model_copy(update={
        "media": Media(id=f"cust-{wamid}", mime_type=mime, caption=caption,
                       filename="recibo.pdf" if kind == "document" else None),
        "understanding": understanding})
    return m.model_copy(update={"payload": payload})


async def active_notifier() -> Notifier:
    n = Notifier(state=FakeState(), store=MemoryStore(()), metrics=NotifierMetrics(CollectorRegistry()),
                 tenants=FakeTenants(demo_tenant(internal_numbers=[INTERNAL, SECOND])))
    await n.handle(handoff(), META)
    return n


def replies(emits: object) -> list[ReplyRequested]:
    out = [e.event for e in emits]  # type: ignore[attr-defined]
    assert all(isinstance(r, ReplyRequested) for r in out)
    return out


async def test_a_photo_is_relayed_as_a_photo_by_its_stored_key_with_who_sent_it() -> None:
    n = await active_notifier()
    out = replies(await n.handle(media_message("wamid.P1", "image", caption="¿tienen este?", object_key=KEY), META))
    assert sorted(r.payload.to.user for r in out) == sorted([INTERNAL, SECOND])
    for r in out:
        p = r.payload
        assert p.kind == "image" and p.audience == "internal" and p.text is None and p.media is not None
        assert p.media.object_key == KEY and p.media.forward_media_id is None
        assert "¿tienen este?" in (p.media.caption or "") and CUSTOMER not in (p.media.caption or "")
        assert "[imagen]" not in (p.media.caption or "")
    assert len({r.payload.reply_id for r in out}) == 2
    again = replies(await n.handle(media_message("wamid.P1", "image", caption="¿tienen este?", object_key=KEY),
                                   META))
    assert [r.payload.reply_id for r in again] == [r.payload.reply_id for r in out]  # a redelivery: same sends


async def test_without_a_stored_copy_the_customers_media_id_is_forwarded() -> None:
    n = await active_notifier()
    [first, _] = replies(await n.handle(media_message("wamid.D1", "document"), META))
    assert first.payload.kind == "document" and first.payload.media is not None
    assert first.payload.media.forward_media_id == "cust-wamid.D1"
    assert first.payload.media.filename == "recibo.pdf" and first.payload.media.mime_type == "application/pdf"


async def test_a_voice_note_goes_after_a_line_saying_who_sent_it() -> None:
    n = await active_notifier()
    out = replies(await n.handle(media_message("wamid.A1", "audio", object_key=KEY), META))
    kinds = [(r.payload.to.user, r.payload.kind) for r in out]
    assert kinds == [(INTERNAL, "text"), (SECOND, "text"), (INTERNAL, "audio"), (SECOND, "audio")]
    assert all(r.payload.media is not None and r.payload.media.caption is None for r in out[2:])
    assert "[audio]" in (out[0].payload.text or "")


async def test_media_the_media_stage_could_not_get_is_relayed_as_text() -> None:
    n = await active_notifier()
    m = media_message("wamid.U1", "image", caption="mira")
    m = m.model_copy(update={"payload": m.payload.model_copy(update={
        "understanding": MediaUnderstanding(status="unavailable", reason="expired")})})
    out = replies(await n.handle(m, META))
    assert [r.payload.kind for r in out] == ["text", "text"] and "[imagen] mira" in (out[0].payload.text or "")
