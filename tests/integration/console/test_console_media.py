"""Customers' media in the conversation view, on the real Redis and a folder object store: the media stage's
understanding (as wa.inbound.understood.v1 carries it, through the console's worker) shows a voice note as
<audio> with its transcript, a photo as <img>, a document as a download with its first lines, a receipt with its
fields and unavailable media with the reason; the bytes are served by the console itself, only to operators of
the conversation's tenant."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from schemas.envelope import derive_id
from schemas.events import Media, MessageReceived, MessageReceivedPayload, Recipient
from schemas.understanding import MediaUnderstanding, ReceiptFields
from services.console.inbox import Inbox
from tests.integration.console.conftest import CONV, CUSTOMER, REF, SHOP, Console
from wapipe.objectstore.port import content_key
from wapipe.runtime.types import RecordMeta
from wapipe.store import Turn

UNDERSTOOD = RecordMeta(topic="wa.inbound.understood.v1", partition=0, offset=1, key=CONV, timestamp_ms=None)
OGG = b"OggS\x00\x02" + b"\x00" * 64  # the bytes are only stored and served back, never decoded here
PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 64


def understood(wamid: str, message_type: str, mime: str, u: MediaUnderstanding, text: str | None = None,
               **media: object) -> MessageReceived:
    now = datetime.now(UTC)
    return MessageReceived(
        event_id=derive_id(wamid, "media"), tenant=SHOP, conversation=CONV, correlation_id=wamid,
        payload=MessageReceivedPayload(message_id=wamid, sender=Recipient(wa_id=CUSTOMER), profile_name="Marta",
                                       timestamp=now, message_type=message_type, text=text,
                                       media=Media(id=f"m-{wamid}", mime_type=mime, **media),  # type: ignore[arg-type]
                                       understanding=u))


async def arrive(console: Console, event: MessageReceived, turn_text: str, data: bytes | None = None,
                 mime: str = "") -> None:
    """The media stage stored the bytes, guardrails the turn, and the console's worker read the understanding."""
    if data is not None:
        await console.objects.put(content_key(SHOP, data), data, mime)
    at = event.payload.timestamp
    await console.store.append_turn(Turn(SHOP, CUSTOMER, at, "customer", turn_text, (event.payload.message_id,)))
    await Inbox(console.deps.inbox, console.store, console.deps.cards).handle(event, UNDERSTOOD)
    await console.deps.inbox.remember(CONV)


def media_src(html: str, tag: str) -> str:
    found = re.search(rf'<{tag}[^>]* src="(/c/{REF}/media/[^"]+)"', html)
    assert found, html
    return found.group(1)


async def test_voice_notes_photos_documents_and_receipts_show_inline(console: Console) -> None:
    key = content_key(SHOP, OGG)
    await arrive(console, understood("wamid.V1", "audio", "audio/ogg; codecs=opus", MediaUnderstanding(
        status="understood", object_key=key, transcript="quiero las botas negras talla 40"), voice=True),
        "quiero las botas negras talla 40", OGG, "audio/ogg")
    await arrive(console, understood("wamid.P1", "image", "image/png", MediaUnderstanding(
        status="understood", object_key=content_key(SHOP, PNG), ocr_text="Nequi 150000",
        receipt=ReceiptFields(wallet="Nequi", amount="150000", currency="COP", reference="M123"))),
        "[comprobante]", PNG, "image/png")
    pdf = b"%PDF-1.4 pedido"
    await arrive(console, understood("wamid.D1", "document", "application/pdf", MediaUnderstanding(
        status="understood", object_key=content_key(SHOP, pdf), document_text="Pedido 77\nBotas x2\n\nTotal 300000",
        document_pages=1), filename="pedido.pdf"), "[documento]", pdf, "application/pdf")
    await arrive(console, understood("wamid.X1", "image", "image/jpeg", MediaUnderstanding(
        status="unavailable", reason="expired")), "[image]")

    async with console.client() as http:
        await console.sign_in(http, "luis")
        page = await http.get(f"/c/{REF}")
        assert page.status_code == 200
        html = page.text
        assert "<audio controls" in html and "Transcripción:</strong> quiero las botas negras talla 40" in html
        audio = await http.get(media_src(html, "audio"))
        assert audio.status_code == 200 and audio.content == OGG
        assert audio.headers["content-type"] == "audio/ogg" and audio.headers["x-content-type-options"] == "nosniff"
        assert "default-src 'none'" in audio.headers["content-security-policy"]
        assert audio.headers["content-disposition"].startswith("inline;")

        image = await http.get(media_src(html, "img"))
        assert image.status_code == 200 and image.content == PNG and image.headers["content-type"] == "image/png"
        assert "<dd>Nequi</dd>" in html and "<dd>150000</dd>" in html and "<dd>M123</dd>" in html

        link = re.search(rf'<a class="download" href="(/c/{REF}/media/wamid.D1)"', html)
        assert link and "Pedido 77\nBotas x2\nTotal 300000" in html and "pedido.pdf" in html
        doc = await http.get(link.group(1))
        assert doc.status_code == 200 and doc.headers["content-disposition"].startswith("attachment;")

        assert "Archivo no disponible: expired" in html
        assert (await http.get(f"/c/{REF}/media/wamid.X1")).status_code == 404  # nothing was stored
        assert (await http.get(f"/c/{REF}/media/wamid.NOPE")).status_code == 404

        await arrive(console, understood("wamid.HBg+L/ab=", "image", "image/png", MediaUnderstanding(
            status="understood", object_key=content_key(SHOP, PNG))), "[image]")
        page = await http.get(f"/c/{REF}")
        found = re.search(rf'<img src="(/c/{REF}/media/wamid\.HBg[^"]+)"', page.text)
        assert found, page.text  # a wamid's base64 "/" and "+" survive the URL
        assert (await http.get(found.group(1))).content == PNG

        await console.objects.delete(key)  # expired or erased since: gone, not an error
        assert (await http.get(f"/c/{REF}/media/wamid.V1")).status_code == 404


async def test_media_of_another_tenant_is_not_found_and_signed_out_goes_to_sign_in(console: Console) -> None:
    await arrive(console, understood("wamid.V1", "audio", "audio/ogg", MediaUnderstanding(
        status="understood", object_key=content_key(SHOP, OGG), transcript="hola")), "hola", OGG, "audio/ogg")
    url = f"/c/{REF}/media/wamid.V1"
    async with console.client() as http:
        r = await http.get(url)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
        await console.sign_in(http, "otra")  # an agent of another shop
        r = await http.get(url)
        assert r.status_code == 404 and OGG not in r.content
    async with console.client() as http:
        await console.sign_in(http, "ana")  # an admin sees every shop
        assert (await http.get(url)).content == OGG


async def test_a_card_naming_another_tenants_object_serves_nothing(console: Console) -> None:
    """Even if a record named another shop's object, the console serves only keys under the conversation's shop."""
    other = content_key("100000000000002", PNG)
    await console.objects.put(other, PNG, "image/png")
    await arrive(console, understood("wamid.P9", "image", "image/png", MediaUnderstanding(
        status="understood", object_key=other)), "[image]")
    async with console.client() as http:
        await console.sign_in(http, "ana")
        assert (await http.get(f"/c/{REF}/media/wamid.P9")).status_code == 404
        assert "<img" not in (await http.get(f"/c/{REF}")).text

