"""The operator API on real Redis and the real broker: 401 without the token on every route, take over, reply,
release, clear 4xx for unknown conversations and bad bodies; and the whole process (API + worker + health).
Scoped operator tokens: `tests/security/test_operator_scope.py`."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
import pytest

from schemas.events import ReplyRequested
from schemas.topics import OUTBOUND
from services.notifier.app import service
from services.notifier.texts import ref_of
from tests.integration.notifier.conftest import TOKEN, Running
from tests.support import read_topic
from tests.unit.notifier.events import CUSTOMER, TENANT
from wapipe.runtime.service import serve
from wapipe.state.shadow import ShadowMode
from wapipe.state.window import ServiceWindow
from wapipe_tools.local.servers import free_port

CONV = f"{TENANT}:{CUSTOMER}"
ROUTES = [("GET", "/handoffs"), ("POST", f"/handoffs/{CONV}"), ("POST", f"/handoffs/{CONV}/reply"),
          ("POST", f"/handoffs/{CONV}/release"), ("GET", "/nope"), ("GET", "/docs"), ("GET", "/openapi.json"),
          ("GET", "/metrics")]
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _client(running: Running) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=running.app.api), base_url="http://operator")


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-token"}, {"Authorization": TOKEN},
                                     {"Authorization": f"Basic {TOKEN}"}])
async def test_every_route_answers_401_without_the_token(notifier: Running, headers: dict[str, str]) -> None:
    async with _client(notifier) as http:
        for method, path in ROUTES:
            r = await http.request(method, path, headers=headers, content=b"{not json")
            assert r.status_code == 401, (method, path, r.status_code)
            assert r.headers["www-authenticate"] == "Bearer"


async def test_take_over_reply_and_release(notifier: Running, kafka_bootstrap: str, topic_prefix: str,
                                           redis_client) -> None:  # type: ignore[no-untyped-def]
    shadow = ShadowMode(redis_client)
    async with _client(notifier) as http:
        assert (await http.get("/handoffs", headers=AUTH)).json() == {"handoffs": []}
        # Replying or releasing a conversation nobody handed off is refused, clearly.
        r = await http.post(f"/handoffs/{CONV}/reply", json={"text": "hola"}, headers=AUTH)
        assert r.status_code == 409 and "take it over" in r.json()["detail"]
        assert (await http.post(f"/handoffs/{CONV}/release", headers=AUTH)).status_code == 409
        assert (await http.post("/handoffs/999999999:573001234567", headers=AUTH)).status_code == 404
        assert (await http.post("/handoffs/abcdef12/release", headers=AUTH)).status_code == 404  # unknown ref
        assert (await http.post("/handoffs/not-a-conversation", headers=AUTH)).status_code == 400

        await ServiceWindow(redis_client).touch(CONV, datetime.now(UTC))  # the customer wrote (guardrails' clock)
        r = await http.post(f"/handoffs/{CONV}", json={"operator": "laura"}, headers=AUTH)
        assert r.status_code == 200 and r.json()["ref"] == ref_of(CONV) and r.json()["customer"] == "…4567"
        assert await shadow.is_active(CONV) and 12 * 3600 - 60 < await shadow.ttl(CONV) <= 12 * 3600
        listed = (await http.get("/handoffs", headers=AUTH)).json()["handoffs"]
        assert [h["ref"] for h in listed] == [ref_of(CONV)] and listed[0]["actor"] == "operator:laura"
        assert listed[0]["customer"] == "…4567" and 0 < listed[0]["ttl_left_s"] <= 12 * 3600

        for body in ({}, {"text": ""}, {"text": "x" * 5000}, {"text": "hola", "extra": 1}):
            assert (await http.post(f"/handoffs/{CONV}/reply", json=body, headers=AUTH)).status_code == 422
        r = await http.post(f"/handoffs/{ref_of(CONV)}/reply", json={"text": "Hola, soy Laura 👋", "operator": "laura"},
                            headers={**AUTH, "Idempotency-Key": "k1"})
        assert r.status_code == 202
        again = await http.post(f"/handoffs/{CONV}/reply", json={"text": "Hola, soy Laura 👋", "operator": "laura"},
                                headers={**AUTH, "Idempotency-Key": "k1"})
        assert again.json()["reply_id"] == r.json()["reply_id"]  # a retried call asks for the same send

        r = await http.post(f"/handoffs/{CONV}/release", json={"message": "Te devuelvo con el asistente."},
                            headers=AUTH)
        assert r.status_code == 200 and r.json()["state"] == "BOT"
        assert not await shadow.is_active(CONV)
        assert (await http.get("/handoffs", headers=AUTH)).json() == {"handoffs": []}

    records = await asyncio.to_thread(read_topic, kafka_bootstrap, topic_prefix + OUTBOUND, expect=3, timeout=20)
    events = [rec.event() for rec in records]
    assert all(isinstance(e, ReplyRequested) for e in events) and len(events) == 3
    replies: list[ReplyRequested] = events  # type: ignore[assignment]
    assert [e.payload.text for e in replies] == ["Hola, soy Laura 👋", "Hola, soy Laura 👋",
                                                 "Te devuelvo con el asistente."]
    assert all(e.payload.to.wa_id == CUSTOMER and e.payload.audience == "customer" for e in replies)
    assert {e.payload.origin for e in replies} == {"operator:laura", "operator:admin"}
    assert all(rec.key == CONV for rec in records)
    actions = [e.action for e in await notifier.store.handoffs(TENANT, CUSTOMER)]
    assert actions.count("taken") == 1 and actions.count("reply") >= 1 and actions.count("released") == 1


async def test_one_process_serves_the_api_and_keeps_metrics_off_the_operator_port(notifier: Running) -> None:
    api_port, metrics_port = free_port(), free_port()
    stop = asyncio.Event()
    task = asyncio.create_task(serve(service(notifier.app, host="127.0.0.1", api_port=api_port),
                                     registry=notifier.registry, host="127.0.0.1", port=metrics_port, stop=stop,
                                     handle_signals=False))
    try:
        await notifier.app.worker.wait_ready(30)
        async with httpx.AsyncClient(timeout=5) as http:
            deadline = asyncio.get_running_loop().time() + 60
            while True:  # until the API listens; generous, the machine may be busy
                try:
                    await http.get(f"http://127.0.0.1:{api_port}/handoffs")
                    break
                except httpx.ConnectError:
                    assert asyncio.get_running_loop().time() < deadline, "the operator API never listened"
                    await asyncio.sleep(0.05)
            assert (await http.get(f"http://127.0.0.1:{api_port}/handoffs")).status_code == 401
            assert (await http.get(f"http://127.0.0.1:{api_port}/metrics", headers=AUTH)).status_code == 404
            ok = await http.get(f"http://127.0.0.1:{api_port}/handoffs", headers=AUTH)
            assert ok.status_code == 200
            metrics = await http.get(f"http://127.0.0.1:{metrics_port}/metrics")
            assert "wapipe_operator_actions_total" in metrics.text and "wapipe_handoffs_total" in metrics.text
            assert (await http.get(f"http://127.0.0.1:{metrics_port}/healthz")).status_code == 200
            assert (await http.get(f"http://127.0.0.1:{metrics_port}/readyz")).status_code == 200
    finally:
        stop.set()
        await asyncio.wait_for(task, 40)
