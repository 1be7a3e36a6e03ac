"""/api/chat on the real broker and Redis: auth, its own namespace, known tenants only, the rate limits per
conversation, tenant and key, pending and answered."""

from __future__ import annotations

import asyncio
from pathlib import Path

from schemas.events import MessageReceived
from schemas.topics import INBOUND
from tests.integration.ingress.conftest import API_KEY, SECOND_TENANT, Ingress, MakeIngress, two_tenants
from tests.support import read_topic
from wapipe.apichat import ApiChatReply, push_reply

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
    assert e.correlation_id == e.payload.message_id
    # its own namespace: the user is api:<conversation_id>, the key {tenant}:api:<conversation_id>
    assert e.tenant == "100000000000001" and rec.key == e.conversation == "100000000000001:api:web-2"
    assert e.payload.sender.user == "api:web-2" and e.payload.sender.wa_id is None


async def test_a_whatsapp_number_as_conversation_id_stays_in_the_direct_channel(make_ingress: MakeIngress) -> None:
    ingress: Ingress = await make_ingress(api_chat_wait_s=0)
    r = await ingress.client.post("/api/chat", json={"conversation_id": "573001234567", "text": "hola"},
                                  headers=AUTH)
    assert r.status_code == 202
    rec = read_topic(ingress.bootstrap, ingress.prefix + INBOUND, expect=1)[0]
    assert rec.key == "100000000000001:api:573001234567" != "100000000000001:573001234567"
    assert rec.event().payload.sender.user == "api:573001234567"  # type: ignore[union-attr]


async def test_unknown_tenant_is_refused(make_ingress: MakeIngress) -> None:
    ingress: Ingress = await make_ingress(api_chat_wait_s=0)
    r = await ingress.client.post("/api/chat", json={"conversation_id": "web-9", "text": "hola",
                                                     "tenant": "999999999999999"}, headers=AUTH)
    assert r.status_code == 404 and "unknown tenant 999999999999999" in r.json()["error"]
    assert ingress.metric("wapipe_api_chat_requests_total", {"outcome": "unknown_tenant"}) == 1
    assert read_topic(ingress.bootstrap, ingress.prefix + INBOUND, idle=0.5) == []


async def test_answer_when_reply_is_pushed(make_ingress: MakeIngress, redis_client: object, tmp_path: Path) -> None:
    ingress: Ingress = await make_ingress(api_chat_wait_s=60,  # returns as soon as the reply is pushed
                                           tenants_dir=str(two_tenants(tmp_path)))
    req = asyncio.create_task(ingress.client.post(
        "/api/chat", json={"conversation_id": "web-3", "text": "horarios", "tenant": SECOND_TENANT},
        headers=AUTH))
    rec = (await asyncio.to_thread(read_topic, ingress.bootstrap, ingress.prefix + INBOUND, expect=1))[0]
    e = rec.event()
    assert e.tenant == SECOND_TENANT and e.conversation == f"{SECOND_TENANT}:api:web-3"
    await push_reply(redis_client, e.correlation_id, ApiChatReply(  # type: ignore[arg-type]
        reply="Abrimos de 9 a 7.", route="faq", decision_path=["dedupe:new", "faq:horarios"], llm_called=False))
    r = await req
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["reply"] == "Abrimos de 9 a 7." and doc["route"] == "faq" and doc["llm_called"] is False
    assert doc["decision_path"] == ["dedupe:new", "faq:horarios"] and doc["latency_ms"] > 0


class Clock:
    """A pinned clock for the rate windows: every request of a test falls in the same minute."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_rate_limited_after_30_per_minute(make_ingress: MakeIngress) -> None:
    ingress: Ingress = await make_ingress({"clock": Clock()}, api_chat_wait_s=0)
    codes = []
    for i in range(31):
        r = await ingress.client.post("/api/chat", json={"conversation_id": "web-4", "text": f"m{i}"}, headers=AUTH)
        codes.append(r.status_code)
    assert codes[:30] == [202] * 30 and codes[30] == 429
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    other = await ingress.client.post("/api/chat", json={"conversation_id": "web-5", "text": "hola"}, headers=AUTH)
    assert other.status_code == 202


async def test_rate_limited_per_tenant(make_ingress: MakeIngress, tmp_path: Path) -> None:
    clock = Clock()
    ingress: Ingress = await make_ingress({"clock": clock}, api_chat_wait_s=0, tenants_dir=str(two_tenants(tmp_path)),
                                          ingress_api_chat_rate_per_tenant_per_min=3)
    codes = [(await ingress.client.post("/api/chat", json={"conversation_id": f"web-t{i}", "text": "hola"},
                                        headers=AUTH)).status_code for i in range(4)]
    assert codes == [202, 202, 202, 429]  # four conversations, one tenant
    r = await ingress.client.post("/api/chat", json={"conversation_id": "web-t9", "text": "hola"}, headers=AUTH)
    assert r.status_code == 429 and "per tenant" in r.json()["error"]
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    other = await ingress.client.post("/api/chat", json={"conversation_id": "web-t0", "text": "hola",
                                                         "tenant": SECOND_TENANT}, headers=AUTH)
    assert other.status_code == 202  # another tenant has its own window
    assert ingress.metric("wapipe_api_chat_rate_limited_total", {"scope": "tenant"}) == 2
    clock.now += 61  # a minute later the tenant is let in again
    again = await ingress.client.post("/api/chat", json={"conversation_id": "web-t9", "text": "hola"}, headers=AUTH)
    assert again.status_code == 202


async def test_rate_limited_per_key(make_ingress: MakeIngress, tmp_path: Path) -> None:
    ingress: Ingress = await make_ingress({"clock": Clock()}, api_chat_wait_s=0,
                                          tenants_dir=str(two_tenants(tmp_path)),
                                          ingress_api_chat_rate_per_key_per_min=4)
    codes = []
    for i in range(6):  # different conversations of different tenants: only the key is shared
        tenant = SECOND_TENANT if i % 2 else "100000000000001"
        r = await ingress.client.post("/api/chat", json={"conversation_id": f"web-k{i}", "text": "hola",
                                                         "tenant": tenant}, headers=AUTH)
        codes.append(r.status_code)
    assert codes == [202] * 4 + [429] * 2
    assert "per key" in r.json()["error"]
    assert ingress.metric("wapipe_api_chat_rate_limited_total", {"scope": "key"}) == 2
    assert len(read_topic(ingress.bootstrap, ingress.prefix + INBOUND, expect=4)) == 4
