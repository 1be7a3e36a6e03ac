"""POST/GET /webhook against the real broker: what Meta sends ends up on the topics, exactly once."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from prometheus_client import generate_latest

from schemas.events import MessageReceived, StatusReceived
from schemas.topics import INBOUND, STATUS
from tests.integration.ingress.conftest import VERIFY, Ingress, sample, signed
from tests.support import read_topic

TENANT = "100000000000001"
BSUID = "CO.1297408873021955"


async def test_signed_text_becomes_exactly_one_event(ingress: Ingress) -> None:
    before = datetime.now(UTC)
    r = await ingress.post_webhook(sample("message_text"))
    assert r.status_code == 200, r.text
    records = read_topic(ingress.bootstrap, ingress.prefix + INBOUND, expect=1)
    assert len(records) == 1
    rec = records[0]
    assert rec.key == f"{TENANT}:{BSUID}"
    e = rec.event()
    assert isinstance(e, MessageReceived)
    assert e.tenant == TENANT and e.conversation == rec.key
    assert e.payload.text is not None and "Bogotá / Chapinero" in e.payload.text and "ana@correo.co" in e.payload.text
    assert e.payload.timestamp == datetime(2025, 11, 21, 16, 0, tzinfo=UTC)
    assert e.trace.received_at is not None and before <= e.trace.received_at <= datetime.now(UTC)
    assert rec.headers["type"] == b"MessageReceived"
    assert read_topic(ingress.bootstrap, ingress.prefix + STATUS, idle=0.5) == []
    assert ingress.metric("wapipe_events_published_total", {"type": "MessageReceived", "tenant": TENANT}) == 1
    assert ingress.metric("wapipe_webhook_requests_total", {"outcome": "ok"}) == 1


async def test_status_goes_to_status_topic(ingress: Ingress) -> None:
    r = await ingress.post_webhook(sample("status_failed"))
    assert r.status_code == 200
    records = read_topic(ingress.bootstrap, ingress.prefix + STATUS, expect=1)
    assert len(records) == 1
    e = records[0].event()
    assert isinstance(e, StatusReceived) and e.payload.status == "failed" and e.payload.errors[0].code == 131047
    assert ingress.metric("wapipe_meta_errors_total", {"code": "131047"}) == 1


async def test_batch_of_entries_and_changes_publishes_everything(ingress: Ingress) -> None:
    r = await ingress.post_webhook(sample("batch_multi_entry"))
    assert r.status_code == 200 and r.json() == {"events": 6}
    inbound = read_topic(ingress.bootstrap, ingress.prefix + INBOUND, expect=4)
    status = read_topic(ingress.bootstrap, ingress.prefix + STATUS, expect=2)
    assert len(inbound) == 4 and len(status) == 2
    assert {rec.event().tenant for rec in inbound} == {TENANT, "100000000000002"}
    kinds = sorted(rec.event().payload.message_type for rec in inbound)  # type: ignore[union-attr]
    assert kinds == ["reaction", "text", "text", "text"]


async def test_unknown_type_published_as_unsupported(ingress: Ingress) -> None:
    assert (await ingress.post_webhook(sample("message_unknown_type"))).status_code == 200
    e = read_topic(ingress.bootstrap, ingress.prefix + INBOUND, expect=1)[0].event()
    assert isinstance(e, MessageReceived) and e.payload.message_type == "unsupported"
    assert e.payload.raw["album"]["count"] == 3


async def test_bad_or_missing_signature_publishes_nothing(ingress: Ingress) -> None:
    body = sample("message_text")
    missing = await ingress.post_webhook(body, headers={"Content-Type": "application/json"})
    wrong = await ingress.post_webhook(body, headers=signed(body, secret="not-the-app-secret"))
    tampered = await ingress.post_webhook(body.replace(b"Hola", b"Hole"), headers=signed(body))
    assert (missing.status_code, wrong.status_code, tampered.status_code) == (401, 403, 403)
    assert read_topic(ingress.bootstrap, ingress.prefix + INBOUND, idle=1.0) == []
    assert ingress.metric("wapipe_webhook_signature_failures_total", {"reason": "mismatch"}) == 2
    assert ingress.metric("wapipe_webhook_signature_failures_total", {"reason": "missing"}) == 1


async def test_non_ascii_bodies_verify_raw_and_escaped(ingress: Ingress) -> None:
    text = "Envío a Bogotá / Chapinero, señor @nuñez 👟🔥"
    doc = json.loads(sample("message_text"))
    doc["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"] = text
    escaped = json.dumps(doc).replace("/", "\\/").encode()  # \u00e9, \ud83d\udc5f, \/
    doc["entry"][0]["changes"][0]["value"]["messages"][0]["id"] += "2"
    raw_utf8 = json.dumps(doc, ensure_ascii=False, indent=1).encode()
    for body in (escaped, raw_utf8):
        r = await ingress.post_webhook(body)
        assert r.status_code == 200, r.text
    texts = [rec.event().payload.text for rec in read_topic(ingress.bootstrap, ingress.prefix + INBOUND, expect=2)]
    assert texts == [text, text]


async def test_malformed_bodies_get_400(ingress: Ingress) -> None:
    not_json = await ingress.post_webhook(b"{not json")
    other = await ingress.post_webhook(b'{"object":"page","entry":[]}')
    assert (not_json.status_code, other.status_code) == (400, 400)
    assert not_json.json()["error"] == "body is not JSON"
    assert other.json()["error"] == "not a WhatsApp webhook payload"


async def test_oversized_body_refused(ingress: Ingress) -> None:
    big = b'{"object":"whatsapp_business_account","entry":[' + b" " * (3 * 1024 * 1024) + b"]}"
    assert (await ingress.post_webhook(big)).status_code == 413

    async def chunks():  # no Content-Length: the stream itself must be cut off
        for _ in range(64):
            yield b" " * (128 * 1024)

    r = await ingress.client.post("/webhook", content=chunks(), headers=signed(b"x"))
    assert r.status_code == 413
    assert ingress.metric("wapipe_webhook_requests_total", {"outcome": "too_large"}) == 2


async def test_meta_errors_are_counted(ingress: Ingress) -> None:
    assert (await ingress.post_webhook(sample("errors"))).status_code == 200
    assert ingress.metric("wapipe_meta_errors_total", {"code": "130429"}) == 1
    metrics = generate_latest(ingress.registry).decode()  # served on the metrics port, not the webhook's
    assert 'wapipe_meta_errors_total{code="130429"} 1.0' in metrics


async def test_verification_handshake(ingress: Ingress) -> None:
    ok = await ingress.client.get("/webhook", params={"hub.mode": "subscribe", "hub.verify_token": VERIFY,
                                                      "hub.challenge": "1158201444"})
    assert ok.status_code == 200 and ok.text == "1158201444" and ok.headers["content-type"].startswith("text/plain")
    wrong = await ingress.client.get("/webhook", params={"hub.mode": "subscribe", "hub.verify_token": "nope",
                                                         "hub.challenge": "1158201444"})
    no_mode = await ingress.client.get("/webhook", params={"hub.verify_token": VERIFY, "hub.challenge": "1"})
    assert (wrong.status_code, no_mode.status_code) == (403, 403)
    assert "1158201444" not in wrong.text


async def test_health_and_readiness(ingress: Ingress) -> None:
    assert (await ingress.client.get("/healthz")).status_code == 200
    ready = await ingress.client.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"ready": True}
