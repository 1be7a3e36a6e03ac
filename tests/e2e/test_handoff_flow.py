"""The handoff journey on the real broker, Redis and the Graph API simulator, with guardrails, sender and notifier
workers running in this process (customer messages are produced to wa.inbound.v1 as ingress would):

"quiero hablar con un asesor" -> the customer gets the shop's handoff message and the internal number one
notification; the next messages get no bot answer and are relayed; an operator's reply through the API reaches the
customer; release -> the bot answers again. Every operator route answers 401 without the token.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from schemas.envelope import conversation_key
from schemas.topics import INBOUND
from services.guardrails.app import build_app as build_guardrails
from services.guardrails.config import GuardrailsSettings
from services.notifier.app import build_app as build_notifier
from services.notifier.app import service
from services.notifier.config import NotifierSettings
from services.notifier.texts import ref_of
from services.sender.app import build_app as build_sender
from services.sender.config import SenderSettings
from services.sender.ports import RegistryPolicies, SendPolicy
from tests.media_stage import media_stage
from tests.unit.notifier.events import message
from wapipe.runtime.producer import Producer
from wapipe.runtime.service import serve
from wapipe.runtime.types import Emit
from wapipe.runtime.worker import Worker
from wapipe.store import ConversationStore, open_store
from wapipe.tenants import TenantRegistry, load_tenant
from wapipe_tools.local.servers import free_port
from wapipe_tools.simulator.serve import BackgroundSimulator
from wapipe_tools.simulator.state import SimState

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TENANTS_DIR = Path(__file__).resolve().parents[2] / "config" / "tenants"
TENANT = "100000000000001"
CUSTOMER = "573009876543"
INTERNAL = "573000000099"
TOKEN = "e2e-operator-token-0123456789abcdef"
CONV = conversation_key(TENANT, CUSTOMER)


@dataclass
class Stack:
    sim: BackgroundSimulator
    api: str
    store: ConversationStore
    inbound: Producer

    async def say(self, wamid: str, text: str) -> None:
        await self.inbound.publish(Emit(INBOUND, message(wamid, text, CUSTOMER, at=datetime.now(UTC))))

    async def sent_to(self, number: str) -> list[dict[str, Any]]:
        async with httpx.AsyncClient(timeout=5) as http:
            r = await http.get(f"{self.sim.url}/_sim/messages", params={"to": number})
            return list(r.json()["messages"])

    async def wait_for(self, number: str, count: int, timeout: float = 90) -> list[dict[str, Any]]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            got = await self.sent_to(number)
            if len(got) >= count or asyncio.get_running_loop().time() > deadline:
                return got
            await asyncio.sleep(0.1)


@pytest.fixture
async def stack(kafka_bootstrap: str, topic_prefix: str, group_id: str, redis_url: str,
                redis_client: aioredis.Redis, tmp_path: Path) -> AsyncIterator[Stack]:
    sim = BackgroundSimulator(SimState(ingress_url=None)).start()
    # Meta only delivers free text inside a 24 h window: the customer just wrote, and the shop's staff number
    # wrote to the business number today.
    sim.state.open_window(TENANT, CUSTOMER)
    sim.state.open_window(TENANT, INTERNAL)
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
    registry = CollectorRegistry()
    notifier = build_notifier(NotifierSettings(**common, admin_token=SecretStr(TOKEN)), redis=redis_client,
                              store=store, producer=producers[2], tenants=tenants, registry=registry,
                              group_id=f"{group_id}-notifier")
    api_port = free_port()
    stop = asyncio.Event()
    media = media_stage(kafka_bootstrap=kafka_bootstrap, topic_prefix=topic_prefix, producer=producers[0],
                        folder=tmp_path, group_id=f"{group_id}-media")
    workers: list[Worker] = [media.worker, guardrails.worker, sender.worker]
    tasks = [asyncio.create_task(w.run()) for w in workers]
    tasks.append(asyncio.create_task(serve(service(notifier, host="127.0.0.1", api_port=api_port), registry=registry,
                                           host="127.0.0.1", port=0, stop=stop, handle_signals=False)))
    try:
        for w in (*workers, notifier.worker):
            await w.wait_ready(40)
        yield Stack(sim, f"http://127.0.0.1:{api_port}", store, producers[3])
    finally:
        stop.set()
        for w in workers:
            await w.stop()
        await asyncio.gather(*tasks)
        await media.close()
        for p in producers:
            p.close()
        await sender.graph.aclose()
        await store.close()
        sim.stop()


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [m["text"] or "" for m in messages]


async def test_handoff_relay_operator_reply_and_release(stack: Stack) -> None:
    shop = load_tenant(TENANTS_DIR / "demo.yaml")
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=stack.api, timeout=10) as api:
        for method, path in [("GET", "/handoffs"), ("POST", f"/handoffs/{CONV}"),
                             ("POST", f"/handoffs/{CONV}/reply"), ("POST", f"/handoffs/{CONV}/release")]:
            assert (await api.request(method, path, json={"text": "x"})).status_code == 401
            wrong = {"Authorization": "Bearer not-the-token"}
            assert (await api.request(method, path, json={"text": "x"}, headers=wrong)).status_code == 401

        # The bot answers while nobody asked for a person.
        await stack.say("wamid.E1", "hola")
        assert texts(await stack.wait_for(CUSTOMER, 1)) == [shop.wording.greeting]

        # Asking for a person: the handoff wording to the customer, one notification to the internal number.
        await stack.say("wamid.E2", "quiero hablar con un asesor")
        to_customer = await stack.wait_for(CUSTOMER, 2)
        assert texts(to_customer)[1] == shop.wording.handoff
        notes = await stack.wait_for(INTERNAL, 1)
        assert len(notes) == 1
        note = notes[0]["text"]
        assert "asesor" in note and "…6543" in note and CUSTOMER not in note and "/release" in note

        # HUMAN_ACTIVE: no bot answers (even to what the bot would answer on its own: a greeting, the opening
        # hours); the customer's messages are relayed to the internal number.
        await stack.say("wamid.E3", "hola buenas")
        await stack.say("wamid.E4", "¿a qué hora abren hoy? necesito cambiar unas botas")
        relayed = await stack.wait_for(INTERNAL, 3)
        assert len(relayed) == 3
        assert "hola buenas" in relayed[1]["text"] and "necesito cambiar unas botas" in relayed[2]["text"]
        assert all(CUSTOMER not in m["text"] for m in relayed)

        listed = (await api.get("/handoffs", headers=auth)).json()["handoffs"]
        assert [h["ref"] for h in listed] == [ref_of(CONV)] and listed[0]["reason"] == "humano"
        assert listed[0]["customer"] == "…6543" and CUSTOMER not in str(listed)
        assert 11 * 3600 < listed[0]["ttl_left_s"] <= 12 * 3600

        # A person answers through the API: it reaches the customer and is kept as a `human` turn.
        r = await api.post(f"/handoffs/{CONV}/reply", json={"text": "Hola, soy Laura. Claro, te ayudo con el cambio.",
                                                             "operator": "laura"}, headers=auth)
        assert r.status_code == 202
        got = await stack.wait_for(CUSTOMER, 3)
        assert texts(got)[2] == "Hola, soy Laura. Claro, te ayudo con el cambio."
        assert len(got) == 3  # still no bot answer to E3/E4
        turns = await _eventually(lambda: stack.store.last_turns(TENANT, CUSTOMER, 10),
                                  lambda ts: any(t.role == "human" for t in ts))
        assert [t.text for t in turns if t.role == "human"] == ["Hola, soy Laura. Claro, te ayudo con el cambio."]

        # Release: the bot answers again.
        r = await api.post(f"/handoffs/{CONV}/release", json={"message": "Te dejo con nuestro asistente. ¡Gracias!"},
                           headers=auth)
        assert r.status_code == 200
        assert texts(await stack.wait_for(CUSTOMER, 4))[3] == "Te dejo con nuestro asistente. ¡Gracias!"
        await stack.say("wamid.E5", "buenas tardes")
        after = await stack.wait_for(CUSTOMER, 5)
        assert texts(after)[4] == shop.wording.greeting
        assert (await api.get("/handoffs", headers=auth)).json() == {"handoffs": []}

    await asyncio.sleep(1.0)  # nothing else trickles in: exactly one notification, relays only while active
    assert len(await stack.sent_to(INTERNAL)) == 3
    assert len(await stack.sent_to(CUSTOMER)) == 5
    audit = [e.action for e in await stack.store.handoffs(TENANT, CUSTOMER)]
    assert {"requested", "notified", "relayed", "reply", "released"} <= set(audit)


async def _eventually(read: Callable[[], Any], ok: Callable[[Any], bool], timeout: float = 60) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await read()
        if ok(value) or asyncio.get_running_loop().time() > deadline:
            return value
        await asyncio.sleep(0.1)
