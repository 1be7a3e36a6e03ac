"""/api/chat on the real broker and Redis: auth, the per-conversation rate limit, pending and answered."""

from __future__ import annotations

import asyncio

from schemas.events import MessageReceived
from schemas.topics import INBOUND
from tests.integration.ingress.conftest import API_KEY, Ingress, MakeIngress
from tests.support import read_topic
from wapipe.apichat import push_reply

AUTH = {"Authorization": f"Bearer {API_KEY}"}


async def test_key_required(ingress: Ingress) -> None:
    body = {"conversation_id": "web-1", "text": "hola"}
    missing = await ingress.client.post("/api/chat", json=body)
    wrong = await ingress.client.post("/api/chat", json=body, headers={"Authorization": "Bearer nope"})
    assert (missing.status_code, wrong.status_code) == (401, 401)
    assert (await ingress.client.post("/api/chat", json={}, headers={})).status_code == 401
    assert read_topic(ingress.bootstrap, ingress.prefix + INBOUND, idle=0.5) == []


async def test_pending_when_nobody_replies(make_ingress: MakeIngress) -> None:
    ingress: Ingress = await make_ingress(api_chat_wait_s=0.3)
    r = await ingress.client.post("/api/chat", json={"conversation_id": "web-2", "text": "¿Tienen envío?"},
                                  headers=AUTH)
    assert r.status_code == 202 and r.json()["status"] == "pending"
    rec = read_topic(ingress.bootstrap, ingress.prefix + INBOUND, expect=1)[0]
    e = rec.event()
    assert isinstance(e, MessageReceived) and e.event_id == r.json()["event_id"]
    assert e.payload.channel == "api" and e.payload.text == "¿Tienen envío?"
    assert e.tenant == "100000000000001" and rec.key == "100000000000001:web-2"
    assert e.correlation_id == e.payload.message_id


async def test_answer_when_reply_is_pushed(make_ingress: MakeIngress, redis_client: object) -> None:
    ingress: Ingress = await make_ingress(api_chat_wait_s=60)  # returns as soon as the reply is pushed
    req = asyncio.create_task(ingress.client.post(
        "/api/chat", json={"conversation_id": "web-3", "text": "horarios", "tenant": "100000000000002"},
        headers=AUTH))
    rec = (await asyncio.to_thread(read_topic, ingress.bootstrap, ingress.prefix + INBOUND, expect=1))[0]
    e = rec.event()
    assert e.tenant == "100000000000002"
    await push_reply(redis_client, e.correlation_id, {  # type: ignore[arg-type]
        "reply": "Abrimos de 9 a 7.", "route": "faq", "decision_path": ["dedupe:new", "faq:horarios"],
        "llm_called": False})
    r = await req
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["reply"] == "Abrimos de 9 a 7." and doc["route"] == "faq" and doc["llm_called"] is False
    assert doc["decision_path"] == ["dedupe:new", "faq:horarios"] and doc["latency_ms"] > 0


async def test_rate_limited_after_30_per_minute(make_ingress: MakeIngress) -> None:
    ingress: Ingress = await make_ingress(api_chat_wait_s=0)
    codes = []
    for i in range(31):
        r = await ingress.client.post("/api/chat", json={"conversation_id": "web-4", "text": f"m{i}"}, headers=AUTH)
        codes.append(r.status_code)
    assert codes[:30] == [202] * 30 and codes[30] == 429
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    other = await ingress.client.post("/api/chat", json={"conversation_id": "web-5", "text": "hola"}, headers=AUTH)
    assert other.status_code == 202
