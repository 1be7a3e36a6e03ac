"""The simulated Graph API answers like Meta: shapes, limits, errors, faults and webhooks."""

from __future__ import annotations

import asyncio
import json
import time

import httpx

from schemas.meta.signature import sign
from tests.integration.simulator.conftest import Receiver
from wapipe_tools.simulator.serve import BackgroundSimulator
from wapipe_tools.simulator.state import SimState
from wapipe_tools.simulator.webhooks import StatusBatcher, status_object

PNID = "100000000000001"
AUTH = {"Authorization": "Bearer dev-access-token"}


def _text(to: str, body: str, **extra: object) -> dict[str, object]:
    return {"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": body}, **extra}


def _send(sim: BackgroundSimulator, body: dict[str, object], headers: dict[str, str] = AUTH) -> httpx.Response:
    return httpx.post(f"{sim.url}/v25.0/{PNID}/messages", json=body, headers=headers, timeout=15)


def _open(sim: BackgroundSimulator, to: str) -> None:
    httpx.post(f"{sim.url}/_sim/window", json={"to": to}).raise_for_status()


def test_text_send_is_listed_and_statuses_reach_ingress_signed(sim: BackgroundSimulator, receiver: Receiver) -> None:
    _open(sim, "573001112233")
    r = _send(sim, _text("573001112233", "Hola, ¿en qué te ayudo?", biz_opaque_callback_data="reply-1"))
    assert r.status_code == 200
    doc = r.json()
    assert doc["messaging_product"] == "whatsapp"
    assert doc["contacts"] == [{"input": "573001112233", "wa_id": "573001112233"}]
    wamid = doc["messages"][0]["id"]
    listed = httpx.get(f"{sim.url}/_sim/messages", params={"to": "573001112233"}).json()["messages"]
    assert [(m["id"], m["kind"], m["text"]) for m in listed] == [(wamid, "text", "Hola, ¿en qué te ayudo?")]

    got = receiver.wait_for(3)
    statuses = []
    for raw, headers in got:
        assert headers["x-hub-signature-256"] == sign(raw, "dev-app-secret-not-for-production")
        st = json.loads(raw)["entry"][0]["changes"][0]["value"]["statuses"][0]
        assert st["id"] == wamid and st["biz_opaque_callback_data"] == "reply-1"
        statuses.append(st["status"])
    assert statuses == ["sent", "delivered", "read"]


def test_bearer_token_required(sim: BackgroundSimulator) -> None:
    r = _send(sim, _text("573001112233", "hola"), headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401
    err = r.json()["error"]
    assert err["code"] == 190 and err["type"] == "OAuthException" and err["fbtrace_id"]


def test_meta_limits_are_enforced(sim: BackgroundSimulator) -> None:
    _open(sim, "573001112233")
    too_long = _send(sim, _text("573001112233", "x" * 4097))
    assert too_long.status_code == 400 and too_long.json()["error"]["code"] == 131009
    buttons = [{"type": "reply", "reply": {"id": f"b{i}", "title": f"Opción {i}"}} for i in range(4)]
    four = _send(sim, {"messaging_product": "whatsapp", "to": "573001112233", "type": "interactive",
                       "interactive": {"type": "button", "body": {"text": "Elige"}, "action": {"buttons": buttons}}})
    assert four.status_code == 400
    rows = [{"id": f"r{i}", "title": f"Fila {i}"} for i in range(11)]
    eleven = _send(sim, {"messaging_product": "whatsapp", "to": "573001112233", "type": "interactive",
                         "interactive": {"type": "list", "body": {"text": "Elige"},
                                         "action": {"button": "Ver", "sections": [{"title": "A", "rows": rows}]}}})
    assert eleven.status_code == 400 and "10 rows" in eleven.json()["error"]["error_data"]["details"]
    missing = _send(sim, {"messaging_product": "whatsapp", "type": "text", "text": {"body": "hola"}})
    assert missing.status_code == 400 and missing.json()["error"]["code"] in (100, 131009)
    ok = _send(sim, {"messaging_product": "whatsapp", "to": "573001112233", "type": "interactive",
                     "interactive": {"type": "button", "body": {"text": "Elige"}, "action": {"buttons": buttons[:3]}}})
    assert ok.status_code == 200


def test_free_form_outside_window_is_131047_but_templates_pass(sim: BackgroundSimulator) -> None:
    r = _send(sim, _text("573009990000", "hola"))
    assert r.status_code == 400 and r.json()["error"]["code"] == 131047
    t = _send(sim, {"messaging_product": "whatsapp", "to": "573009990000", "type": "template",
                    "template": {"name": "reengage", "language": {"code": "es"}}})
    assert t.status_code == 200


def test_mark_read_with_typing_indicator(sim: BackgroundSimulator) -> None:
    r = _send(sim, {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.X",
                    "typing_indicator": {"type": "text"}})
    assert r.status_code == 200 and r.json() == {"success": True}
    reads = httpx.get(f"{sim.url}/_sim/messages").json()["reads"]
    assert reads[0]["message_id"] == "wamid.X" and reads[0]["typing"] is True


def _codes_within(sim: BackgroundSimulator, bodies: list[dict[str, object]]) -> tuple[list[int | None], float]:
    """Meta error codes (None when sent) of these sends, one after another, and the seconds they took in all."""
    started = time.monotonic()
    codes = [_send(sim, b).json().get("error", {}).get("code") for b in bodies]
    return codes, time.monotonic() - started


# Exact bucket positions are checked with a hand-moved clock in tests/unit/simulator; over real HTTP only the
# invariants hold whatever the machine's speed: the burst always passes, and never more than burst + rate x elapsed.
def test_pair_rate_limit_after_a_small_burst(sim: BackgroundSimulator) -> None:
    httpx.post(f"{sim.url}/_sim/limits", json={"pair_burst": 3, "pair_interval_s": 6}).raise_for_status()
    _open(sim, "573001112233")
    codes, elapsed = _codes_within(sim, [_text("573001112233", f"m{i}") for i in range(6)])
    sent = codes.count(None)
    assert codes[:3] == [None] * 3 and 3 <= sent <= 3 + elapsed / 6
    assert set(codes) <= {None, 131056}


def test_number_throughput_limit(sim: BackgroundSimulator) -> None:
    httpx.post(f"{sim.url}/_sim/limits", json={"number_rate": 1, "number_burst": 5, "enforce_window": False})
    codes, elapsed = _codes_within(sim, [_text(f"57300{i:07d}", "hola") for i in range(8)])
    sent = codes.count(None)
    assert codes[:5] == [None] * 5 and 5 <= sent <= 5 + 1 * elapsed
    assert set(codes) <= {None, 130429}


def test_scripted_faults_then_recovery(sim: BackgroundSimulator) -> None:
    _open(sim, "573001112233")
    httpx.post(f"{sim.url}/_sim/faults", json={"kind": "5xx", "status": 503, "count": 1}).raise_for_status()
    httpx.post(f"{sim.url}/_sim/faults", json={"kind": "code", "code": 131000, "count": 1}).raise_for_status()
    httpx.post(f"{sim.url}/_sim/faults", json={"kind": "timeout", "delay_s": 0.2, "count": 1}).raise_for_status()
    assert _send(sim, _text("573001112233", "a")).status_code == 503
    assert _send(sim, _text("573001112233", "a")).json()["error"]["code"] == 131000
    assert _send(sim, _text("573001112233", "a")).status_code == 504
    assert _send(sim, _text("573001112233", "a")).status_code == 200
    assert len(httpx.get(f"{sim.url}/_sim/messages").json()["messages"]) == 1


def test_inbound_builds_signed_webhook_and_opens_window(sim: BackgroundSimulator, receiver: Receiver) -> None:
    r = httpx.post(f"{sim.url}/_sim/inbound", json={"from": "573004445566", "text": "¿Hacen envíos a Cali?",
                                                     "profile_name": "Ana", "user_id": "CO.123456"})
    assert r.status_code == 200 and r.json()["ingress_status"] == 200
    raw, headers = receiver.wait_for(1)[0]
    assert headers["x-hub-signature-256"] == sign(raw, "dev-app-secret-not-for-production")
    value = json.loads(raw)["entry"][0]["changes"][0]["value"]
    assert value["metadata"]["phone_number_id"] == PNID
    assert value["contacts"][0] == {"profile": {"name": "Ana"}, "wa_id": "573004445566", "user_id": "CO.123456"}
    msg = value["messages"][0]
    assert msg["id"] == r.json()["message_id"] and msg["text"]["body"] == "¿Hacen envíos a Cali?"
    assert _send(sim, _text("573004445566", "Sí, enviamos a Cali")).status_code == 200


def test_statuses_due_together_share_a_webhook_and_keep_each_message_in_order(
        sim: BackgroundSimulator, receiver: Receiver) -> None:
    recipients = [f"5730011{i:05d}" for i in range(20)]
    for to in recipients:
        _open(sim, to)

    async def send_all() -> list[str]:
        async with httpx.AsyncClient(headers=AUTH, timeout=15) as client:
            rs = await asyncio.gather(*(client.post(f"{sim.url}/v25.0/{PNID}/messages",
                                                    json=_text(to, "hola", biz_opaque_callback_data=f"r-{to}"))
                                        for to in recipients))
        return [r.json()["messages"][0]["id"] for r in rs]

    wamids = asyncio.run(send_all())
    deadline = time.monotonic() + 60
    seen: dict[str, list[str]] = {}
    while time.monotonic() < deadline:
        seen = {}
        for raw, headers in list(receiver.received):
            assert headers["x-hub-signature-256"] == sign(raw, "dev-app-secret-not-for-production")
            for st in json.loads(raw)["entry"][0]["changes"][0]["value"]["statuses"]:
                seen.setdefault(st["id"], []).append(st["status"])
        if sum(map(len, seen.values())) >= 60:
            break
        time.sleep(0.05)
    assert {w: seen.get(w) for w in wamids} == {w: ["sent", "delivered", "read"] for w in wamids}


def test_statuses_due_together_go_out_in_one_webhook_per_batch(receiver: Receiver) -> None:
    """How many webhooks carry the statuses depends on timing over HTTP; here they fall due at the same moment."""
    state = SimState(ingress_url=receiver.url)

    async def post_together(max_batch: int) -> list[int]:
        async with httpx.AsyncClient(timeout=15) as client:
            batcher = StatusBatcher(client, state, max_batch=max_batch)
            codes = await asyncio.gather(*(batcher.post(PNID, status_object(
                wamid=f"wamid.B{i}", recipient=f"5730022{i:05d}", status="sent", callback_data=None))
                for i in range(20)))
            await batcher.aclose()
        return list(codes)

    assert asyncio.run(post_together(100)) == [200] * 20
    assert asyncio.run(post_together(8)) == [200] * 20
    batches = [tuple(st["id"] for st in json.loads(raw)["entry"][0]["changes"][0]["value"]["statuses"])
               for raw, _ in receiver.received]
    # One webhook for all 20; then at most 8 each (those go out concurrently, so in any order), each in order.
    expected = [tuple(f"wamid.B{i}" for i in r) for r in (range(20), range(8), range(8, 16), range(16, 20))]
    assert sorted(batches) == sorted(expected)
