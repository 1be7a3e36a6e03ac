"""Media, location, contacts and quoted replies: the sender's handler against the simulator over HTTP (the real
httpx client), real Redis and a real folder object store."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry

from schemas.events import Location, Media, OutboundMedia, QuotedMessage, ReplyFailed, ReplyRequested, ReplySent
from schemas.understanding import MediaUnderstanding
from services.notifier.handlers import Notifier
from services.notifier.metrics import NotifierMetrics
from services.notifier.state import RedisNotifierState
from services.sender.handlers import Sender
from services.sender.media_adapters import MediaIds
from services.sender.outcomes import ReplyFailedError
from tests.fakes.store import MemoryStore
from tests.integration.sender.conftest import PNID, open_window, reply, sent
from tests.unit.notifier.events import handoff, message
from tests.unit.notifier.fakes import FakeTenants, demo_tenant
from wapipe.objectstore.folder import FolderObjectStore
from wapipe.objectstore.port import content_key
from wapipe.runtime.types import RecordMeta
from wapipe_tools.simulator.serve import BackgroundSimulator

META = RecordMeta("wa.outbound.v1", 0, 0, None, None)
JPEG = b"\xff\xd8\xff\xe0" + hashlib.sha256(b"foto").digest() * 40
PDF = b"%PDF-1.4\n" + b"0" * 300


async def test_stored_bytes_are_uploaded_once_and_sent_by_id(
        sim: BackgroundSimulator, media_sender: Callable[[], Sender], redis_client: aioredis.Redis,
        objects: FolderObjectStore) -> None:
    user = "573002220001"
    await open_window(redis_client, sim, user)
    key = content_key(PNID, JPEG)
    await objects.put(key, JPEG, "image/jpeg")
    first = await media_sender().handle(reply(user, None, kind="image", media=OutboundMedia(
        object_key=key, caption="Así queda el modelo")), META)
    second = await media_sender().handle(reply(user, None, n=1, kind="image", media=OutboundMedia(
        object_key=key)), META)
    msgs = sent(sim, user)
    assert [m["media"]["kind"] for m in msgs] == ["image", "image"]
    media_id = msgs[0]["media"]["id"]
    assert media_id and msgs[1]["media"]["id"] == media_id and msgs[0]["media"]["link"] is None
    assert msgs[0]["media"]["caption"] == "Así queda el modelo" and msgs[0]["text"] == "Así queda el modelo"
    # Meta holds the bytes we uploaded, once: the media object names their hash
    obj = httpx.get(f"{sim.url}/v25.0/{media_id}", headers={"Authorization": "Bearer dev-access-token"}).json()
    assert obj["sha256"] == hashlib.sha256(JPEG).hexdigest() and obj["mime_type"] == "image/jpeg"
    assert await MediaIds(redis_client).get(PNID, hashlib.sha256(JPEG).hexdigest()) == media_id
    uploads = httpx.get(f"{sim.url}/_sim/messages").json()["uploads"]
    assert [(u["id"], u["sha256"], u["mime_type"]) for u in uploads] == [
        (media_id, hashlib.sha256(JPEG).hexdigest(), "image/jpeg")]
    assert all(isinstance(o[0].event, ReplySent) for o in (first, second))


async def test_a_document_from_the_store_keeps_its_file_name(
        sim: BackgroundSimulator, media_sender: Callable[[], Sender], redis_client: aioredis.Redis,
        objects: FolderObjectStore) -> None:
    user = "573002220002"
    await open_window(redis_client, sim, user)
    key = content_key(PNID, PDF)
    await objects.put(key, PDF, "application/pdf")
    await media_sender().handle(reply(user, None, kind="document", media=OutboundMedia(
        object_key=key, filename="factura.pdf", caption="Tu factura")), META)
    [m] = sent(sim, user)
    assert m["media"] == {"kind": "document", "id": m["media"]["id"], "link": None, "caption": "Tu factura",
                          "filename": "factura.pdf"}


async def test_send_by_link_and_the_guard_refuses_a_private_address(
        sim: BackgroundSimulator, media_sender: Callable[[], Sender], redis_client: aioredis.Redis) -> None:
    user = "573002220003"
    await open_window(redis_client, sim, user)
    public = "https://93.184.216.34/catalogo/tenis.jpg"
    await media_sender().handle(reply(user, None, kind="image", media=OutboundMedia(link=public)), META)
    assert [m["media"]["link"] for m in sent(sim, user)] == [public]
    for n, link in enumerate(("https://localhost/admin.png", "https://10.1.2.3/x.png",
                              "https://[::1]/x.png", "http://93.184.216.34/x.png"), start=1):
        with pytest.raises(ReplyFailedError) as e:
            await media_sender().handle(reply(user, None, n=n, kind="image", media=OutboundMedia(link=link)), META)
        failed = e.value.emits[0].event
        assert isinstance(failed, ReplyFailed)
        assert failed.payload.reason in ("media_private_address", "media_scheme_not_allowed")
        assert "refused" in (failed.payload.error_title or "")
    assert len(sent(sim, user)) == 1  # nothing refused reached Meta


async def test_an_answer_whose_picture_cannot_go_is_sent_as_its_caption(
        sim: BackgroundSimulator, media_sender: Callable[[], Sender], redis_client: aioredis.Redis) -> None:
    user = "573002220008"
    await open_window(redis_client, sim, user)
    caption = "Chaqueta impermeable, $189.900: https://calzadoymodala80.co/chaqueta"
    event = reply(user, None, kind="image", media=OutboundMedia(link="https://10.1.2.3/chaqueta.jpg", caption=caption))
    await media_sender().handle(event, META)
    [m] = sent(sim, user)
    assert m.get("media") is None and m["text"] == caption  # the answer, without the picture the guard refused
    assert any(s.startswith("sender:media_fallback:media_") for s in event.trace.decision_path)


async def test_metas_upload_error_is_a_permanent_failure_and_limits_are_checked_first(
        sim: BackgroundSimulator, media_sender: Callable[[], Sender], redis_client: aioredis.Redis,
        objects: FolderObjectStore) -> None:
    user = "573002220004"
    await open_window(redis_client, sim, user)
    key = content_key(PNID, PDF)
    await objects.put(key, PDF, "application/pdf")
    httpx.post(f"{sim.url}/_sim/faults", json={"kind": "code", "code": 131053, "count": 1,
                                               "applies_to": "upload"}).raise_for_status()
    with pytest.raises(ReplyFailedError) as e:
        await media_sender().handle(reply(user, None, kind="document", media=OutboundMedia(object_key=key)), META)
    failed = e.value.emits[0].event
    assert isinstance(failed, ReplyFailed)
    assert (failed.payload.error_code, failed.payload.reason) == (131053, "media_upload")
    sticker = b"RIFF" + b"\x00" * (600 * 1024)  # over Meta's 500 KB for a sticker: refused before any upload
    await objects.put(content_key(PNID, sticker), sticker, "image/webp")
    with pytest.raises(ReplyFailedError) as e:
        await media_sender().handle(reply(user, None, n=1, kind="sticker", media=OutboundMedia(
            object_key=content_key(PNID, sticker))), META)
    assert e.value.emits[0].event.payload.reason == "media_too_large"
    assert sent(sim, user) == [] and httpx.get(f"{sim.url}/_sim/messages").json()["uploads"] == []


async def test_a_customers_media_is_forwarded_by_download_and_upload(
        sim: BackgroundSimulator, media_sender: Callable[[], Sender], redis_client: aioredis.Redis) -> None:
    internal = "573002220005"
    await open_window(redis_client, sim, internal)
    r = httpx.post(f"{sim.url}/_sim/media", content=JPEG, headers={"Content-Type": "image/jpeg"},
                   params={"phone_number_id": PNID})
    customer_media = r.json()["id"]
    await media_sender().handle(reply(internal, None, kind="image", audience="internal", media=OutboundMedia(
        forward_media_id=customer_media, caption="💬 ***2233 (ref abc)")), META)
    [m] = sent(sim, internal)
    assert m["media"]["id"] and m["media"]["id"] != customer_media  # re-uploaded, not Meta's inbound id
    obj = httpx.get(f"{sim.url}/v25.0/{m['media']['id']}", headers={"Authorization": "Bearer dev-access-token"})
    assert obj.json()["sha256"] == hashlib.sha256(JPEG).hexdigest()
    with pytest.raises(ReplyFailedError) as e:
        await media_sender().handle(reply(internal, None, n=1, kind="image", audience="internal",
                                          media=OutboundMedia(forward_media_id="999999")), META)
    assert e.value.emits[0].event.payload.reason == "media_forward_not_found"


async def test_context_location_and_contacts(sim: BackgroundSimulator, media_sender: Callable[[], Sender],
                                             redis_client: aioredis.Redis) -> None:
    user = "573002220006"
    await open_window(redis_client, sim, user)
    quote = QuotedMessage(message_id="wamid.in.573002220006.0")
    await media_sender().handle(reply(user, "Sí, esa talla la tenemos.", context=quote), META)
    await media_sender().handle(reply(user, None, n=1, kind="location", location=Location(
        latitude=4.6533, longitude=-74.0836, name="Tienda Demo", address="Cra 7 # 72-10, Bogotá")), META)
    await media_sender().handle(reply(user, None, n=2, kind="contacts", contacts=[
        {"name": {"formatted_name": "Tienda Demo"}, "phones": [{"phone": "+573001112233", "type": "WORK"}]}]),
        META)
    text, loc, card = sent(sim, user)
    assert text["context"] == {"message_id": "wamid.in.573002220006.0"} and text["text"] == "Sí, esa talla la tenemos."
    assert loc["kind"] == "location" and loc["body"]["location"]["name"] == "Tienda Demo"
    assert card["kind"] == "contacts" and card["body"]["contacts"][0]["name"]["formatted_name"] == "Tienda Demo"


@pytest.mark.parametrize("stored", [True, False], ids=["by-object-key", "downloaded-and-re-uploaded"])
async def test_a_human_active_photo_reaches_the_internal_numbers_as_a_photo(
        stored: bool, sim: BackgroundSimulator, media_sender: Callable[[], Sender], redis_client: aioredis.Redis,
        objects: FolderObjectStore) -> None:
    """Notifier (real Redis state) -> ReplyRequested -> sender -> simulator: the shop's phones get the image."""
    internal = ["573009990001", "573009990002"] if stored else ["573009990003", "573009990004"]
    for number in internal:
        await open_window(redis_client, sim, number)
    notifier = Notifier(state=RedisNotifierState(redis_client), store=MemoryStore(()),
                        tenants=FakeTenants(demo_tenant(internal_numbers=internal)),
                        metrics=NotifierMetrics(CollectorRegistry()))
    customer = "573001234500" if stored else "573001234501"
    await notifier.handle(handoff(f"wamid.H.{customer}", customer), META)
    customer_media = httpx.post(f"{sim.url}/_sim/media", content=JPEG, headers={"Content-Type": "image/jpeg"},
                                params={"phone_number_id": PNID}).json()["id"]
    photo = message(f"wamid.P.{customer}", "¿tienen este en 40?", customer, message_type="image",
                    at=datetime.now(UTC) + timedelta(seconds=1))
    understanding = None
    if stored:
        await objects.put(content_key(PNID, JPEG), JPEG, "image/jpeg")
        understanding = MediaUnderstanding(status="understood", object_key=content_key(PNID, JPEG))
    photo = photo.model_copy(update={"payload": photo.payload.model_copy(update={
        "media": Media(id=customer_media, mime_type="image/jpeg", caption="¿tienen este en 40?"),
        "understanding": understanding})})
    requests = [e.event for e in await notifier.handle(photo, META)]
    for r in requests:
        assert isinstance(r, ReplyRequested)
        await media_sender().handle(r, META)
    got = [m for number in internal for m in sent(sim, number)]
    assert [m["media"]["kind"] for m in got] == ["image", "image"]
    assert all("¿tienen este en 40?" in m["media"]["caption"] and customer not in m["media"]["caption"]
               for m in got)
    uploads = httpx.get(f"{sim.url}/_sim/messages").json()["uploads"]
    assert [u["sha256"] for u in uploads] == [hashlib.sha256(JPEG).hexdigest()]  # once for both numbers
    assert {m["media"]["id"] for m in got} == {uploads[0]["id"]}
