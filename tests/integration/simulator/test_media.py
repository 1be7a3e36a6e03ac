"""The simulated media endpoints answer like Meta's: media object, bearer-only download URL that expires, upload,
media sends, faults; and the simulated model transcribes audio and looks at images."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator

import httpx
import openai
import pytest

from wapipe_tools.simulator.media import MediaStore
from wapipe_tools.simulator.serve import BackgroundSimulator
from wapipe_tools.simulator.state import SimState

PNID = "100000000000001"
AUTH = {"Authorization": "Bearer dev-access-token"}
OGG = b"OggS\x00\x02" + bytes(range(256)) * 8


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sim(clock: Clock) -> Iterator[BackgroundSimulator]:
    with BackgroundSimulator(SimState(ingress_url=None, media=MediaStore(clock=clock))) as s:
        yield s


def _register(sim: BackgroundSimulator, data: bytes, mime: str, **params: object) -> dict[str, object]:
    r = httpx.post(f"{sim.url}/_sim/media", content=data, headers={"Content-Type": mime}, params=params)
    r.raise_for_status()
    doc: dict[str, object] = r.json()
    return doc


def _object(sim: BackgroundSimulator, media_id: object, headers: dict[str, str] = AUTH) -> httpx.Response:
    return httpx.get(f"{sim.url}/v25.0/{media_id}", headers=headers)


def test_media_object_and_its_download_url_that_needs_the_token_and_expires(sim: BackgroundSimulator,
                                                                              clock: Clock) -> None:
    media = _register(sim, OGG, "audio/ogg; codecs=opus")
    r = _object(sim, media["id"])
    assert r.status_code == 200
    doc = r.json()
    assert doc["messaging_product"] == "whatsapp" and doc["id"] == media["id"]
    assert doc["mime_type"] == "audio/ogg; codecs=opus"
    assert doc["sha256"] == hashlib.sha256(OGG).hexdigest() and doc["file_size"] == len(OGG)
    assert doc["url"].startswith(sim.url + "/")

    assert httpx.get(doc["url"]).status_code == 401
    got = httpx.get(doc["url"], headers=AUTH)
    assert got.status_code == 200 and got.content == OGG
    assert got.headers["content-type"].startswith("audio/ogg")

    clock.now += 299
    assert httpx.get(doc["url"], headers=AUTH).status_code == 200
    clock.now += 1
    assert httpx.get(doc["url"], headers=AUTH).status_code == 404
    fresh = _object(sim, media["id"]).json()["url"]
    assert httpx.get(fresh, headers=AUTH).content == OGG


def test_a_forged_download_url_is_404(sim: BackgroundSimulator) -> None:
    url = _object(sim, _register(sim, OGG, "audio/ogg")["id"]).json()["url"]
    assert httpx.get(url.replace("hash=", "hash=0"), headers=AUTH).status_code == 404


def test_token_and_unknown_ids_answer_like_meta(sim: BackgroundSimulator) -> None:
    media_id = _register(sim, OGG, "audio/ogg")["id"]
    bad = _object(sim, media_id, headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401 and bad.json()["error"]["code"] == 190
    unknown = _object(sim, "999")
    err = unknown.json()["error"]
    assert unknown.status_code == 400 and err["code"] == 100 and err["error_subcode"] == 33
    other_number = httpx.get(f"{sim.url}/v25.0/{_register(sim, OGG, 'audio/ogg', phone_number_id='1')['id']}",
                             params={"phone_number_id": "2"}, headers=AUTH)
    assert other_number.status_code == 400
    assert httpx.delete(f"{sim.url}/v25.0/{media_id}", headers=AUTH).json() == {"success": True}
    assert _object(sim, media_id).status_code == 400


def test_faults_for_tests(sim: BackgroundSimulator) -> None:
    expired = _object(sim, _register(sim, OGG, "audio/ogg", fault="expired")["id"]).json()
    assert httpx.get(expired["url"], headers=AUTH).status_code == 404

    assert _object(sim, _register(sim, OGG, "audio/ogg", fault="not_found")["id"]).json()["error"]["code"] == 100

    wrong = _object(sim, _register(sim, OGG, "audio/ogg", fault="wrong_sha256")["id"]).json()
    assert wrong["sha256"] != hashlib.sha256(httpx.get(wrong["url"], headers=AUTH).content).hexdigest()

    small = _object(sim, _register(sim, OGG, "audio/ogg", fault="wrong_size")["id"]).json()
    assert small["file_size"] < len(httpx.get(small["url"], headers=AUTH).content)

    flaky = _register(sim, OGG, "audio/ogg", fault="graph_error", code=131016, count=2)["id"]
    assert [_object(sim, flaky).status_code for _ in range(3)] == [503, 503, 200]

    slow = _object(sim, _register(sim, OGG, "audio/ogg", fault="slow", delay_s=3)["id"]).json()
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(slow["url"], headers=AUTH, timeout=0.2)

    assert httpx.post(f"{sim.url}/_sim/media", content=b"x", params={"fault": "nonsense"}).status_code == 422


def test_upload_like_meta(sim: BackgroundSimulator) -> None:
    def upload(data: bytes, mime: str, product: str = "whatsapp") -> httpx.Response:
        return httpx.post(f"{sim.url}/v25.0/{PNID}/media", headers=AUTH,
                          data={"messaging_product": product, "type": mime}, files={"file": ("f", data, mime)})

    up = upload(b"\x89PNG fake", "image/png")
    assert up.status_code == 200 and set(up.json()) == {"id"}
    doc = _object(sim, up.json()["id"]).json()
    assert doc["mime_type"] == "image/png" and doc["sha256"] == hashlib.sha256(b"\x89PNG fake").hexdigest()

    unsupported = upload(b"GIF89a", "image/gif")
    assert unsupported.status_code == 400 and unsupported.json()["error"]["code"] == 131053
    big_sticker = upload(b"R" * (501 * 1024), "image/webp")
    assert big_sticker.status_code == 400 and big_sticker.json()["error"]["code"] == 131053
    assert upload(b"x", "image/png", product="sms").json()["error"]["code"] == 100
    assert httpx.post(f"{sim.url}/v25.0/{PNID}/media", data={"messaging_product": "whatsapp"}).status_code == 401


def test_media_messages_by_id_or_link_are_sent_and_listed(sim: BackgroundSimulator) -> None:
    to = "573001112233"
    httpx.post(f"{sim.url}/_sim/window", json={"to": to}).raise_for_status()
    image_id = _register(sim, b"\x89PNG img", "image/png")["id"]
    doc_id = _register(sim, b"%PDF-1.4", "application/pdf")["id"]

    def send(kind: str, obj: dict[str, object]) -> httpx.Response:
        return httpx.post(f"{sim.url}/v25.0/{PNID}/messages", headers=AUTH,
                          json={"messaging_product": "whatsapp", "to": to, "type": kind, kind: obj})

    assert send("image", {"id": image_id, "caption": "Este es el modelo"}).status_code == 200
    assert send("document", {"id": doc_id, "filename": "factura.pdf"}).status_code == 200
    assert send("video", {"link": "https://example.com/v.mp4"}).status_code == 200
    assert send("audio", {"link": "https://example.com/a.ogg"}).status_code == 200
    assert send("sticker", {"link": "https://example.com/s.webp"}).status_code == 200

    assert send("image", {"id": "404404"}).json()["error"]["code"] == 131053
    assert send("audio", {"id": image_id}).json()["error"]["code"] == 131053  # an image is no audio
    assert send("audio", {"link": "https://example.com/a.ogg", "caption": "no"}).status_code == 400
    assert send("image", {"id": image_id, "link": "https://example.com/i.png"}).status_code == 400
    assert send("image", {"caption": "sin fuente"}).status_code == 400

    listed = httpx.get(f"{sim.url}/_sim/messages", params={"to": to}).json()["messages"]
    assert [(m["kind"], m["text"]) for m in listed] == [
        ("image", "Este es el modelo"), ("document", None), ("video", None), ("audio", None), ("sticker", None)]
    assert listed[0]["body"]["image"]["id"] == image_id
    assert listed[1]["body"]["document"]["filename"] == "factura.pdf"
    assert [m["media"] for m in listed] == [
        {"kind": "image", "id": image_id, "link": None, "caption": "Este es el modelo", "filename": None},
        {"kind": "document", "id": doc_id, "link": None, "caption": None, "filename": "factura.pdf"},
        {"kind": "video", "id": None, "link": "https://example.com/v.mp4", "caption": None, "filename": None},
        {"kind": "audio", "id": None, "link": "https://example.com/a.ogg", "caption": None, "filename": None},
        {"kind": "sticker", "id": None, "link": "https://example.com/s.webp", "caption": None, "filename": None}]


def test_uploads_are_listed_and_an_upload_fault_is_metas_131053(sim: BackgroundSimulator) -> None:
    def upload(data: bytes, mime: str) -> httpx.Response:
        return httpx.post(f"{sim.url}/v25.0/{PNID}/media", headers=AUTH,
                          data={"messaging_product": "whatsapp", "type": mime}, files={"file": ("f.png", data, mime)})

    httpx.post(f"{sim.url}/_sim/faults", json={"kind": "code", "code": 131053, "count": 1,
                                               "applies_to": "upload"}).raise_for_status()
    to = "573001112244"
    httpx.post(f"{sim.url}/_sim/window", json={"to": to}).raise_for_status()
    text = httpx.post(f"{sim.url}/v25.0/{PNID}/messages", headers=AUTH, json={
        "messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": "hola"}})
    assert text.status_code == 200  # an upload fault never hits a message send
    refused = upload(b"\x89PNG a", "image/png")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == 131053
    ok = upload(b"\x89PNG a", "image/png")
    listed = httpx.get(f"{sim.url}/_sim/messages").json()["uploads"]
    assert listed == [{"phone_number_id": PNID, "id": ok.json()["id"], "mime_type": "image/png", "size": 6,
                       "sha256": hashlib.sha256(b"\x89PNG a").hexdigest(), "filename": "f.png"}]


def test_location_and_contacts_sends_are_validated(sim: BackgroundSimulator) -> None:
    to = "573001112255"
    httpx.post(f"{sim.url}/_sim/window", json={"to": to}).raise_for_status()

    def send(kind: str, obj: object) -> httpx.Response:
        return httpx.post(f"{sim.url}/v25.0/{PNID}/messages", headers=AUTH,
                          json={"messaging_product": "whatsapp", "to": to, "type": kind, kind: obj})

    assert send("location", {"latitude": 4.65, "longitude": -74.05, "name": "Tienda"}).status_code == 200
    assert send("location", {"latitude": 94.0, "longitude": 0}).json()["error"]["code"] == 131009
    assert send("contacts", [{"name": {"formatted_name": "Tienda"}}]).status_code == 200
    assert send("contacts", [{"phones": [{"phone": "+57300"}]}]).json()["error"]["code"] == 100


def _openai(sim: BackgroundSimulator) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{sim.url}/v1", api_key="dev-openai-key", max_retries=0, timeout=5)


def test_transcriptions_through_the_openai_sdk(sim: BackgroundSimulator) -> None:
    _register(sim, OGG, "audio/ogg", transcript="¿A qué hora abren mañana?", language="es")
    c = _openai(sim)
    plain = c.audio.transcriptions.create(model="whisper-1", file=("nota.ogg", OGG, "audio/ogg"))
    assert plain.text == "¿A qué hora abren mañana?"
    verbose = c.audio.transcriptions.create(model="whisper-1", file=("nota.ogg", OGG, "audio/ogg"),
                                            response_format="verbose_json")
    assert verbose.language == "spanish" and verbose.text == plain.text
    assert c.audio.transcriptions.create(model="whisper-1", file=("t.txt", "hola, ¿tienen envíos?".encode(),
                                                                  "audio/ogg")).text == "hola, ¿tienen envíos?"
    unknown = c.audio.transcriptions.create(model="whisper-1", file=("x.ogg", b"\x00\x01" * 10, "audio/ogg"))
    assert unknown.text == "audio de 20 bytes"

    httpx.post(f"{sim.url}/_sim/llm", json={"fail_next": 1, "fail_status": 503}).raise_for_status()
    with pytest.raises(openai.InternalServerError):
        c.audio.transcriptions.create(model="whisper-1", file=("nota.ogg", OGG, "audio/ogg"))
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=f"{sim.url}/v1", api_key="wrong", max_retries=0).audio.transcriptions.create(
            model="whisper-1", file=("nota.ogg", OGG, "audio/ogg"))


def _image_part(data: bytes, mime: str = "image/png") -> dict[str, object]:
    return {"type": "image_url", "image_url": {"url": f"data:{mime};base64,{base64.b64encode(data).decode()}"}}


def test_chat_completions_look_at_images(sim: BackgroundSimulator) -> None:
    photo = b"\x89PNG zapatos"
    _register(sim, photo, "image/png", description="unos zapatos deportivos rojos")
    c = _openai(sim)
    described = c.chat.completions.create(model="gpt-4o-mini", messages=[
        {"role": "system", "content": "Describe la imagen en una frase."},
        {"role": "user", "content": [_image_part(photo)]}])
    assert described.choices[0].message.content == "unos zapatos deportivos rojos"

    asked = c.chat.completions.create(model="gpt-4o-mini", response_format={"type": "json_object"}, messages=[
        {"role": "user", "content": [{"type": "text", "text": "¿Cuánto cuesta este?"}, _image_part(photo)]}])
    assert json.loads(asked.choices[0].message.content or "")["answer"].startswith("Sobre precios")

    unknown = c.chat.completions.create(model="gpt-4o-mini", messages=[
        {"role": "user", "content": [{"type": "text", "text": "describe"}, _image_part(b"abc", "image/jpeg")]}])
    assert unknown.choices[0].message.content == "una imagen image/jpeg de 3 bytes"

    with pytest.raises(openai.BadRequestError):
        c.chat.completions.create(model="gpt-4o-mini", messages=[
            {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,@@"}}]}])
