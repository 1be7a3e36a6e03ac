"""Consent and privacy end to end, on the real broker, Redis and the Graph API simulator, with ingress (signed
webhooks from the simulator), guardrails and the sender running in this process:

"STOP" -> one confirmation; then a notification and a window-fallback template to that customer are refused with
reason opted_out and never reach Meta; the customer writing again is answered; "START" opts back in and a
notification goes out again; Meta's user_preferences stop does the same as "STOP" without a confirmation; then
`wapipe privacy export` shows it all, `wapipe privacy erase` removes it, the export afterwards is empty and no Redis
key of the customer remains; erasing twice is fine.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
import uvicorn
from prometheus_client import CollectorRegistry

from schemas.envelope import conversation_key, derive_id
from schemas.events import ReplyFailed, ReplyRequested, ReplyRequestedPayload, ReplySent
from schemas.meta.webhook import WebhookPayload
from schemas.topics import DELIVERY, INBOUND, OUTBOUND
from services.guardrails.app import build_app as build_guardrails
from services.guardrails.config import GuardrailsSettings
from services.ingress.app import create_app
from services.ingress.config import IngressSettings
from services.ingress.consent import consent_events
from services.sender.app import build_app as build_sender
from services.sender.config import SenderSettings
from services.sender.ports import RegistryPolicies, SendPolicy
from tests.media_stage import media_stage
from tests.support import read_topic
from wapipe.runtime.producer import Producer
from wapipe.runtime.types import Emit
from wapipe.runtime.worker import Worker
from wapipe.state.window import ServiceWindow
from wapipe.store import Store, open_store
from wapipe.tenants import TenantRegistry, load_tenant
from wapipe_tools.local.servers import free_port
from wapipe_tools.simulator.serve import BackgroundSimulator
from wapipe_tools.simulator.state import SimState

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
TENANTS_DIR = REPO / "config" / "tenants"
META_DATA = REPO / "tests" / "data" / "meta" / "v25.0"
TENANT = "100000000000001"
SHOP = load_tenant(TENANTS_DIR / "demo.yaml")


@dataclass
class Stack:
    sim: BackgroundSimulator
    bootstrap: str
    prefix: str
    redis_url: str
    store_url: str
    store: Store
    producer: Producer

    async def say(self, wa_id: str, text: str) -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            r = await http.post(f"{self.sim.url}/_sim/inbound", json={"from": wa_id, "text": text})
            assert r.status_code == 200 and r.json()["ingress_status"] == 200, r.text

    async def sent_to(self, wa_id: str) -> list[dict[str, Any]]:
        async with httpx.AsyncClient(timeout=5) as http:
            return list((await http.get(f"{self.sim.url}/_sim/messages", params={"to": wa_id})).json()["messages"])

    async def wait_for(self, wa_id: str, count: int, timeout: float = 30) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            got = await self.sent_to(wa_id)
            if len(got) >= count or time.monotonic() > deadline:
                return got
            await asyncio.sleep(0.1)

    async def business_message(self, wa_id: str, name: str, **payload: Any) -> ReplyRequested:
        """A message the business starts (a notification, a follow-up), as another stage would ask for one."""
        cid = f"wamid.biz.{wa_id}.{name}"
        event = ReplyRequested(
            event_id=derive_id(cid, "e2e"), tenant=TENANT, conversation=conversation_key(TENANT, wa_id),
            correlation_id=cid, payload=ReplyRequestedPayload(
                reply_id=derive_id(cid, "reply"), to={"wa_id": wa_id}, origin="notifier", **payload))
        await self.producer.publish(Emit(OUTBOUND, event))
        return event

    async def outcome(self, reply_id: str, timeout: float = 30) -> ReplySent | ReplyFailed:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            records = await asyncio.to_thread(read_topic, self.bootstrap, self.prefix + DELIVERY, idle=0.5)
            for r in records:
                e = r.event()
                if isinstance(e, ReplySent | ReplyFailed) and e.payload.reply_id == reply_id:
                    return e
        raise AssertionError(f"no delivery outcome for {reply_id} within {timeout:.0f}s")

    def privacy(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "WAPIPE_STORE_URL": self.store_url, "WAPIPE_REDIS_URL": self.redis_url,
               "WAPIPE_TENANTS_DIR": str(TENANTS_DIR), "COLUMNS": "200"}
        return subprocess.run([sys.executable, "-m", "wapipe_tools.cli.main", "privacy", *args], cwd=REPO,
                              capture_output=True, text=True, timeout=60, env=env)


def _serve_ingress(settings: IngressSettings) -> tuple[uvicorn.Server, threading.Thread, str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    return server, thread, f"http://127.0.0.1:{port}/webhook"


@pytest.fixture
async def stack(kafka_bootstrap: str, topic_prefix: str, group_id: str, redis_url: str,
                redis_client: aioredis.Redis, tmp_path: Path) -> AsyncIterator[Stack]:
    common: dict[str, Any] = {"kafka_bootstrap_servers": kafka_bootstrap, "topic_prefix": topic_prefix,
                              "redis_url": redis_url, "tenants_dir": str(TENANTS_DIR)}
    server, thread, webhook = _serve_ingress(IngressSettings(_env_file=None, **common))  # type: ignore[call-arg]
    sim = BackgroundSimulator(SimState(ingress_url=webhook)).start()
    store_url = f"sqlite:///{tmp_path}/wapipe.db"
    store = open_store(store_url)
    await store.migrate()
    tenants = TenantRegistry(TENANTS_DIR)
    producers = [Producer(kafka_bootstrap, topic_prefix=topic_prefix) for _ in range(3)]
    guardrails = build_guardrails(GuardrailsSettings(**common), redis=redis_client, store=store,
                                  producer=producers[0], registry=CollectorRegistry(), tenants=tenants,
                                  group_id=f"{group_id}-guardrails")
    sender = build_sender(SenderSettings(**common, graph_api_url=sim.url), redis=redis_client, store=store,
                          producer=producers[1], registry=CollectorRegistry(), group_id=f"{group_id}-sender",
                          policies=RegistryPolicies(tenants, SendPolicy()))
    media = media_stage(kafka_bootstrap=kafka_bootstrap, topic_prefix=topic_prefix, producer=producers[0],
                        folder=tmp_path, group_id=f"{group_id}-media")
    workers: list[Worker] = [media.worker, guardrails.worker, sender.worker]
    tasks = [asyncio.create_task(w.run()) for w in workers]
    try:
        for w in workers:
            await w.wait_ready(40)
        yield Stack(sim, kafka_bootstrap, topic_prefix, redis_url, store_url, store, producers[2])
    finally:
        for w in workers:
            await w.stop()
        await asyncio.gather(*tasks)
        await media.close()
        for p in producers:
            p.close()
        await sender.graph.aclose()
        await store.close()
        sim.stop()
        server.should_exit = True
        thread.join(10)


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [m.get("text") or "" for m in messages]


async def customer_keys(redis: aioredis.Redis, *needles: str) -> list[str]:
    keys = [k.decode() async for k in redis.scan_iter(match="*", count=1000)]
    return sorted(k for k in keys if any(n in k for n in needles))


async def test_stop_refuses_business_messages_until_start_then_export_and_erase(
        stack: Stack, redis_client: aioredis.Redis) -> None:
    wa_id = "573011112222"
    conv = conversation_key(TENANT, wa_id)

    await stack.say(wa_id, "No me escriban más, quiero darme de baja")
    assert texts(await stack.wait_for(wa_id, 1)) == [SHOP.consent.opted_out]

    notification = await stack.business_message(wa_id, "promo", kind="text", text="¡Nueva colección! 👟")
    refused = await stack.outcome(notification.payload.reply_id)
    assert isinstance(refused, ReplyFailed) and refused.payload.reason == "opted_out"
    await redis_client.delete(ServiceWindow.key(conv))  # a day later: our clock says the window is closed
    follow_up = await stack.business_message(wa_id, "follow-up", kind="text", text="¿Pudiste ver las tallas?",
                                             in_reply_to="wamid.earlier")
    fallback = await stack.outcome(follow_up.payload.reply_id)
    assert isinstance(fallback, ReplyFailed) and fallback.payload.reason == "opted_out"

    await stack.say(wa_id, "¿a qué hora abren el sábado?")  # they wrote first: answered
    answered = await stack.wait_for(wa_id, 2)
    assert len(answered) == 2 and "09:00" in texts(answered)[1]  # and nothing refused ever reached Meta
    assert all(m["kind"] == "text" for m in answered)

    await stack.say(wa_id, "START")
    assert texts(await stack.wait_for(wa_id, 3))[2] == SHOP.consent.opted_in
    back = await stack.business_message(wa_id, "promo-2", kind="text", text="Llegaron las botas 🥾")
    assert isinstance(await stack.outcome(back.payload.reply_id), ReplySent)
    assert texts(await stack.wait_for(wa_id, 4))[3] == "Llegaron las botas 🥾"

    exported = stack.privacy("export", "--tenant", "demo", "--user", wa_id)
    assert exported.returncode == 0, exported.stderr
    doc = json.loads(exported.stdout)
    assert [c["status"] for c in doc["consent"]["history"]] == ["opted_out", "opted_in"]
    assert doc["consent"]["history"][0]["detail"] == "darme de baja"
    assert {t["outcome"] for t in doc["traces"]} >= {"replied", "opted_out"}
    assert [t["text"] for t in doc["turns"] if t["role"] == "customer"] == [
        "No me escriban más, quiero darme de baja", "¿a qué hora abren el sábado?", "START"]
    assert len([t for t in doc["turns"] if t["role"] == "assistant"]) == 4
    keys = {r["key"] for r in doc["redis"]}
    assert {f"wapipe:window:{conv}", f"wapipe:consent:{conv}", f"wapipe:pace:pair:{conv}"} <= keys
    assert any(k.startswith(f"wapipe:dedupe:{TENANT}:") for k in keys)

    erased = stack.privacy("erase", "--tenant", TENANT, "--user", wa_id, "--actor", "dpo")
    assert erased.returncode == 0, erased.stderr
    counts = json.loads(erased.stdout)["counts"]
    assert counts["consent"] == 2 and counts["turns"] == 7 and counts["redis_keys"] == len(doc["redis"])
    assert await customer_keys(redis_client, wa_id, conv) == []

    after = json.loads(stack.privacy("export", "--tenant", "demo", "--user", wa_id).stdout)
    assert set(after["kept"].values()) == {0} and after["redis"] == [] and after["identity_links"] == []
    again = stack.privacy("erase", "--tenant", "demo", "--user", wa_id)
    assert again.returncode == 0 and set(json.loads(again.stdout)["counts"].values()) == {0}


async def test_metas_user_preferences_stop_opts_out_without_a_confirmation(stack: Stack) -> None:
    wa_id = "573011113333"
    await stack.say(wa_id, "hola")
    assert texts(await stack.wait_for(wa_id, 1)) == [SHOP.wording.greeting]

    doc = json.loads((META_DATA / "user_preferences.json").read_text())
    value = doc["entry"][0]["changes"][0]["value"]
    value["contacts"][0]["wa_id"] = value["user_preferences"][0]["wa_id"] = wa_id
    value["user_preferences"][0]["timestamp"] = int(datetime.now(UTC).timestamp())
    change = WebhookPayload.model_validate(doc).entry[0].changes[0]
    for emit in consent_events(change.value, datetime.now(UTC)).emits:  # what ingress's field router publishes
        assert emit.topic == INBOUND
        await stack.producer.publish(emit)

    deadline = time.monotonic() + 30
    while (c := await stack.store.consent(TENANT, wa_id)) is None and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert c is not None and (c.status, c.source, c.detail) == ("opted_out", "user_preferences",
                                                               "marketing_messages")
    promo = await stack.business_message(wa_id, "promo", kind="text", text="¡Ofertas!")
    refused = await stack.outcome(promo.payload.reply_id)
    assert isinstance(refused, ReplyFailed) and refused.payload.reason == "opted_out"
    assert len(await stack.sent_to(wa_id)) == 1  # the greeting only: no confirmation, no promotion
