"""Webhooks as Meta means them, through ingress, guardrails, sender and notifier on the real broker, Redis and the
Graph API simulator (services in this process, ingress over ASGI):

- a POST with one unreadable message and one good one: 200, the good one answered, the bad one on the raw log's
  DLQ with its raw JSON and the error;
- Meta pauses the shop's window template: the shop's people are told, and a reply that would need it (the
  customer's 24 h window is closed) fails with the reason instead of reaching the Graph API.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from schemas.envelope import conversation_key, derive_id
from schemas.events import Recipient, ReplyFailed, ReplyRequested, ReplyRequestedPayload
from schemas.meta.signature import webhook_headers
from schemas.topics import DELIVERY, OUTBOUND, RAW_WEBHOOKS, dlq_name
from services.guardrails.app import build_app as build_guardrails
from services.guardrails.config import GuardrailsSettings
from services.ingress.app import create_app
from services.ingress.config import IngressSettings
from services.notifier.app import build_app as build_notifier
from services.notifier.config import NotifierSettings
from services.sender.app import build_app as build_sender
from services.sender.config import SenderSettings
from services.sender.ports import RegistryPolicies, SendPolicy
from tests.media_stage import media_stage
from tests.support import read_topic
from wapipe.runtime.producer import Producer
from wapipe.runtime.types import Emit
from wapipe.runtime.worker import Worker
from wapipe.state.templates import TemplateStates
from wapipe.store import open_store
from wapipe.tenants import TenantRegistry, load_tenant
from wapipe_tools.simulator.serve import BackgroundSimulator
from wapipe_tools.simulator.state import SimState

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TENANTS_DIR = Path(__file__).resolve().parents[2] / "config" / "tenants"
DATA = Path(__file__).resolve().parents[1] / "data" / "meta" / "v25.0"
TENANT = "100000000000001"
WABA = "102290129340398"
CUSTOMER = "573001234567"
INTERNAL = "573000000099"
SECRET = "e2e-app-secret-4d1c"


@dataclass
class Stack:
    sim: BackgroundSimulator
    ingress: httpx.AsyncClient
    producer: Producer
    redis: aioredis.Redis
    bootstrap: str
    prefix: str

    async def post(self, doc: dict[str, Any]) -> httpx.Response:
        body = json.dumps(doc, separators=(",", ":")).encode()
        return await self.ingress.post("/webhook", content=body, headers=webhook_headers(body, SECRET))

    async def sent_to(self, number: str) -> list[dict[str, Any]]:
        async with httpx.AsyncClient(timeout=5) as http:
            r = await http.get(f"{self.sim.url}/_sim/messages", params={"to": number})
            return list(r.json()["messages"])


@pytest.fixture
async def stack(kafka_bootstrap: str, topic_prefix: str, group_id: str, redis_url: str,
                redis_client: aioredis.Redis, tmp_path: Path) -> AsyncIterator[Stack]:
    sim = BackgroundSimulator(SimState(ingress_url=None)).start()
    sim.state.open_window(TENANT, CUSTOMER)
    sim.state.open_window(TENANT, INTERNAL)  # the staff number wrote to the shop today
    common: dict[str, Any] = {"kafka_bootstrap_servers": kafka_bootstrap, "topic_prefix": topic_prefix,
                              "redis_url": redis_url, "tenants_dir": str(TENANTS_DIR)}
    store = open_store(f"sqlite:///{tmp_path}/wapipe.db")
    await store.migrate()
    tenants = TenantRegistry(TENANTS_DIR)
    producers = [Producer(kafka_bootstrap, topic_prefix=topic_prefix) for _ in range(4)]
    guardrails = build_guardrails(GuardrailsSettings(**common), redis=redis_client, store=store,
                                  producer=producers[0], registry=CollectorRegistry(), tenants=tenants,
                                  group_id=f"{group_id}-guardrails")
    sender = build_sender(SenderSettings(**common, graph_api_url=sim.url), redis=redis_client, store=store,
                          producer=producers[1], registry=CollectorRegistry(), group_id=f"{group_id}-sender",
                          policies=RegistryPolicies(tenants, SendPolicy()))
    notifier = build_notifier(NotifierSettings(**common, admin_token=SecretStr("e2e-token-0123456789abcdef0")),
                              redis=redis_client, store=store, producer=producers[2], tenants=tenants,
                              registry=CollectorRegistry(), group_id=f"{group_id}-notifier")
    app = create_app(IngressSettings(_env_file=None, **common, meta_app_secret=SECRET),  # type: ignore[call-arg]
                     producer=producers[3], redis=redis_client, registry=CollectorRegistry(), tenants=tenants)
    media = media_stage(kafka_bootstrap=kafka_bootstrap, topic_prefix=topic_prefix, producer=producers[0],
                        folder=tmp_path, group_id=f"{group_id}-media")
    workers: list[Worker] = [media.worker, guardrails.worker, sender.worker, notifier.worker]
    tasks = [asyncio.create_task(w.run()) for w in workers]
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ingress")
    try:
        for w in workers:
            await w.wait_ready(40)
        yield Stack(sim, client, producers[3], redis_client, kafka_bootstrap, topic_prefix)
    finally:
        await client.aclose()
        for w in workers:
            await w.stop()
        await asyncio.gather(*tasks)
        await media.close()
        for p in producers:
            p.close()
        await sender.graph.aclose()
        await store.close()
        sim.stop()


def sample(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text())
    return loaded


async def eventually(read: Callable[[], Any], ok: Callable[[Any], bool], timeout: float = 30) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await read()
        if ok(value) or asyncio.get_running_loop().time() > deadline:
            return value
        await asyncio.sleep(0.1)


async def test_the_readable_message_is_answered_and_the_unreadable_one_kept(stack: Stack) -> None:
    shop = load_tenant(TENANTS_DIR / "demo.yaml")
    doc = sample("message_text")
    value = doc["entry"][0]["changes"][0]["value"]
    value["contacts"][0].pop("user_id")
    first = value["messages"][0]
    first.pop("from_user_id")
    # sent just now, so the customer's 24 h window is open and the answer is free text
    good = {**copy.deepcopy(first), "id": "wamid.E2E.good", "timestamp": str(int(time.time())),
            "text": {"body": "hola"}}
    bad = {**copy.deepcopy(first), "id": "wamid.E2E.bad", "timestamp": "a las 3", "text": {"body": "¿y envíos?"}}
    value["messages"] = [bad, good]

    r = await stack.post(doc)
    assert (r.status_code, r.json()) == (200, {"events": 1, "unreadable": 1})

    answered = await eventually(lambda: stack.sent_to(CUSTOMER), lambda got: len(got) >= 1)
    assert [m["text"] for m in answered] == [shop.wording.greeting]  # the good one, answered once
    [dead] = read_topic(stack.bootstrap, dlq_name(stack.prefix + RAW_WEBHOOKS), expect=1)
    assert json.loads(dead.value) == bad
    assert b"timestamp" in dead.headers["dlq.error.message"]
    # A later message of the same customer is answered after anything that was still coming for the earlier ones
    # (one conversation's records are handled in order): then the unreadable one has been answered never.
    later = {**copy.deepcopy(first), "id": "wamid.E2E.later", "timestamp": str(int(time.time())),
             "text": {"body": "¿Tienen catálogo?"}}
    value["messages"] = [later]
    r = await stack.post(doc)
    assert (r.status_code, r.json()) == (200, {"events": 1})
    replies = await eventually(lambda: stack.sent_to(CUSTOMER), lambda got: len(got) >= 2)
    assert len(replies) == 2 and replies[0]["text"] == shop.wording.greeting


async def test_a_paused_window_template_is_reported_and_not_sent(stack: Stack) -> None:
    shop = load_tenant(TENANTS_DIR / "demo.yaml")
    assert shop.window_template is not None and shop.waba_id == WABA
    doc = sample("template_status_paused")
    doc["entry"][0]["changes"][0]["value"]["message_template_name"] = shop.window_template.name
    doc["entry"][0]["time"] = int(time.time())  # paused just now (a pause is over after 6 h at most)
    assert (await stack.post(doc)).status_code == 200

    # The shop's people hear of it; the sender keeps it.
    alerts = await eventually(lambda: stack.sent_to(INTERNAL), lambda got: len(got) >= 1)
    assert f"«{shop.window_template.name}» (es) fue pausada por Meta" in alerts[0]["text"]
    states = TemplateStates(stack.redis)
    await eventually(lambda: states.states(WABA, [shop.window_template]), bool)  # type: ignore[list-item]

    # A reply to a customer whose 24 h window is closed would need the template: it fails with the reason.
    stranger = "573009990001"
    cid = "wamid.E2E.late"
    await stack.producer.publish(Emit(OUTBOUND, ReplyRequested(
        event_id=derive_id(cid, "e2e"), tenant=TENANT, conversation=conversation_key(TENANT, stranger),
        correlation_id=cid, payload=ReplyRequestedPayload(
            reply_id=derive_id(cid, "reply"), to=Recipient(wa_id=stranger), kind="text", text="Tu pedido va en camino",
            origin="ai"))))
    failures = await eventually(
        lambda: asyncio.to_thread(read_topic, stack.bootstrap, stack.prefix + DELIVERY, idle=0.5),
        lambda recs: any(isinstance(r.event(), ReplyFailed) for r in recs))
    [failed] = [r.event() for r in failures if isinstance(r.event(), ReplyFailed)]
    assert isinstance(failed, ReplyFailed) and failed.payload.error_code == 132015
    assert "is paused at Meta" in (failed.payload.error_title or "")
    assert await stack.sent_to(stranger) == []  # Meta was never asked
