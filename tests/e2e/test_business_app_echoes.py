"""The WhatsApp Business app on the Cloud API number (coexistence), through the whole pipeline: signed webhooks as
Meta sends them into ingress, guardrails, the sender on the simulated Graph API and the notifier's operator API,
every service on the real broker and Redis, in this process.

- An echo of a message wapipe itself sent (Meta reflecting our own send) leaves the bot in charge.
- A person writing from the app: a human turn, HUMAN_ACTIVE; the customer's next message gets no bot answer.
- Released through the operator API, the bot answers the customer's next message again.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from schemas.envelope import conversation_key
from schemas.meta.signature import webhook_headers
from services.guardrails.app import build_app as build_guardrails
from services.guardrails.config import GuardrailsSettings
from services.ingress.app import create_app
from services.ingress.config import IngressSettings
from services.notifier.app import build_app as build_notifier
from services.notifier.app import service
from services.notifier.config import NotifierSettings
from services.sender.app import build_app as build_sender
from services.sender.config import SenderSettings
from tests.media_stage import media_stage
from tests.support import unique
from wapipe.runtime.producer import Producer
from wapipe.runtime.service import serve
from wapipe.runtime.worker import Worker
from wapipe.state.shadow import ShadowMode
from wapipe.store import Store, TraceRecord, open_store
from wapipe.tenants import TenantRegistry, load_tenant
from wapipe_tools.local.servers import free_port
from wapipe_tools.simulator.serve import BackgroundSimulator
from wapipe_tools.simulator.state import SimState

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TENANTS_DIR = Path(__file__).resolve().parents[2] / "config" / "tenants"
DATA = Path(__file__).resolve().parents[1] / "data" / "meta" / "v25.0"
TENANT = "100000000000001"
CUSTOMER = "573101230001"
CONV = conversation_key(TENANT, CUSTOMER)
TOKEN = "e2e-echoes-operator-token-0123456789"
T = TypeVar("T")


def customer_says(text: str, ts: int) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((DATA / "message_text.json").read_text())
    value = doc["entry"][0]["changes"][0]["value"]
    value["contacts"] = [{"profile": {"name": "Valentina Gómez"}, "wa_id": CUSTOMER}]
    value["messages"] = [{"from": CUSTOMER, "id": f"wamid.{uuid.uuid4().hex}", "timestamp": str(ts),
                          "type": "text", "text": {"body": text}}]
    return doc


def app_echo(text: str, ts: int, wamid: str | None = None) -> dict[str, Any]:
    """Meta's `smb_message_echoes` sample: a person of the shop wrote `text` to the customer from the app."""
    doc: dict[str, Any] = json.loads((DATA / "smb_message_echoes.json").read_text())
    echo = doc["entry"][0]["changes"][0]["value"]["message_echoes"][0]
    echo.update({"to": CUSTOMER, "id": wamid or f"wamid.{uuid.uuid4().hex}", "timestamp": str(ts),
                 "text": {"body": text}})
    return doc


def id_of(doc: dict[str, Any]) -> str:
    value = doc["entry"][0]["changes"][0]["value"]
    return str((value.get("messages") or value["message_echoes"])[0]["id"])


async def eventually(read: Callable[[], Awaitable[T]], ok: Callable[[T], bool], timeout: float = 60) -> T:
    """Poll `read` until `ok` (a generous deadline: the machine may be slow); returns the last value read."""
    deadline = time.monotonic() + timeout
    while True:
        value = await read()
        if ok(value) or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.1)


@dataclass
class Pipeline:
    ingress: httpx.AsyncClient
    api: str
    sim: BackgroundSimulator
    store: Store
    redis: aioredis.Redis
    secret: str

    async def post(self, doc: dict[str, Any]) -> None:
        raw = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
        r = await self.ingress.post("/webhook", content=raw, headers=webhook_headers(raw, self.secret))
        assert r.status_code == 200, r.text

    async def sent_to_customer(self) -> list[str]:
        return [m.text or "" for m in self.sim.state.messages_to(CUSTOMER) if m.kind == "text"]

    async def outcomes(self, wamid: str) -> list[str]:
        traces: list[TraceRecord] = await self.store.traces_by_correlation(wamid)
        return [t.outcome for t in traces]


async def _run(stack: AsyncExitStack, *workers: Worker) -> None:
    tasks = [asyncio.create_task(w.run()) for w in workers]

    async def stop() -> None:
        for w in workers:
            await w.stop()
        await asyncio.gather(*tasks)

    stack.push_async_callback(stop)
    await asyncio.gather(*(w.wait_ready(60) for w in workers))


@pytest.fixture
async def pipeline(kafka_bootstrap: str, topic_prefix: str, redis_url: str, redis_client: aioredis.Redis,
                   tmp_path: Path) -> AsyncIterator[Pipeline]:
    conn = {"kafka_bootstrap_servers": kafka_bootstrap, "topic_prefix": topic_prefix, "redis_url": redis_url,
            "tenants_dir": str(TENANTS_DIR)}
    tenants = TenantRegistry(TENANTS_DIR)
    async with AsyncExitStack() as stack:
        sim = stack.enter_context(BackgroundSimulator(SimState(ingress_url=None, status_webhooks=False,
                                                               enforce_window=False)))
        store = open_store(f"sqlite:///{tmp_path}/wapipe.db")
        await store.migrate()
        stack.push_async_callback(store.close)
        producer = Producer(kafka_bootstrap, topic_prefix=topic_prefix, delivery_timeout_s=10)
        stack.callback(producer.close)
        guardrails = build_guardrails(GuardrailsSettings(**conn), redis=redis_client, store=store, producer=producer,
                                      registry=CollectorRegistry(), tenants=tenants, group_id=unique("g"))
        sender = build_sender(SenderSettings(**conn, graph_api_url=sim.url, meta_access_token=sim.state.access_token),
                              redis=redis_client, store=store, producer=producer, registry=CollectorRegistry(),
                              group_id=unique("g"))
        stack.push_async_callback(sender.graph.aclose)
        registry = CollectorRegistry()
        notifier = build_notifier(NotifierSettings(**conn, admin_token=SecretStr(TOKEN)), redis=redis_client,
                                  store=store, producer=producer, tenants=tenants, registry=registry,
                                  group_id=unique("g"))
        api_port, stop_api = free_port(), asyncio.Event()
        api_task = asyncio.create_task(serve(service(notifier, host="127.0.0.1", api_port=api_port),
                                             registry=registry, host="127.0.0.1", port=0, stop=stop_api,
                                             handle_signals=False))

        async def stop_notifier() -> None:
            stop_api.set()
            await api_task

        stack.push_async_callback(stop_notifier)
        media = media_stage(kafka_bootstrap=kafka_bootstrap, topic_prefix=topic_prefix, producer=producer,
                            folder=tmp_path, group_id=unique("g"))
        stack.push_async_callback(media.close)
        await _run(stack, media.worker, guardrails.worker, sender.worker)
        await notifier.worker.wait_ready(60)
        secret = sim.state.app_secret
        app = create_app(IngressSettings(_env_file=None, **conn, meta_app_secret=secret,  # type: ignore[call-arg]
                                         meta_verify_token="echoes-e2e-verify-token",
                                         api_chat_key="echoes-e2e-api-chat-key"),
                         producer=producer, redis=redis_client, store=store, registry=CollectorRegistry())
        client = await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ingress"))
        yield Pipeline(client, f"http://127.0.0.1:{api_port}", sim, store, redis_client, secret)


async def test_a_person_writing_from_the_business_app_silences_the_bot_until_released(pipeline: Pipeline) -> None:
    shop = load_tenant(TENANTS_DIR / "demo.yaml")
    base = int(time.time()) - 30  # Meta's timestamps: whole seconds, in the past
    hello = customer_says("hola", base)
    await pipeline.post(hello)
    assert await eventually(pipeline.sent_to_customer, len) == [shop.wording.greeting]
    [greeting] = [m for m in pipeline.sim.state.messages_to(CUSTOMER) if m.kind == "text"]

    # Meta echoing the greeting wapipe sent (its wamid is the one the Graph API gave the sender): not a person.
    ours = app_echo(shop.wording.greeting, base + 1, wamid=greeting.id)
    await pipeline.post(ours)
    assert await eventually(lambda: pipeline.outcomes(greeting.id), bool) == ["echo_ours"]
    assert not await ShadowMode(pipeline.redis).is_active(CONV)

    # A person of the shop answers from the app on the same number.
    laura = app_echo("Hola Valentina, soy Laura. ¿Qué talla buscas?", base + 2)
    await pipeline.post(laura)
    assert await eventually(lambda: pipeline.outcomes(id_of(laura)), bool) == ["echo"]
    assert await ShadowMode(pipeline.redis).is_active(CONV)

    question = customer_says("la 38, ¿a qué hora abren?", base + 3)
    await pipeline.post(question)
    assert await eventually(lambda: pipeline.outcomes(id_of(question)), bool) == ["shadow"]
    assert await pipeline.sent_to_customer() == [shop.wording.greeting]  # the bot did not talk over Laura
    turns = await pipeline.store.last_turns(TENANT, CUSTOMER, 10)
    # (ordered by time: Meta's seconds for the customer's and the echo, ours for the bot's reply)
    assert sorted((t.role, t.text) for t in turns) == sorted([
        ("customer", "hola"), ("assistant", shop.wording.greeting),
        ("human", "Hola Valentina, soy Laura. ¿Qué talla buscas?"), ("customer", "la 38, ¿a qué hora abren?")])

    async with httpx.AsyncClient(timeout=10) as http:  # released as usual: the operator API
        listed = (await http.get(f"{pipeline.api}/handoffs", headers={"Authorization": f"Bearer {TOKEN}"})).json()
        [entry] = [h for h in listed["handoffs"] if h["actor"] == "operator:WhatsApp Business app"]
        r = await http.post(f"{pipeline.api}/handoffs/{entry['ref']}/release",
                            headers={"Authorization": f"Bearer {TOKEN}"})
        assert r.status_code == 200, r.text
    after = customer_says("¿a qué hora abren?", base + 4)
    await pipeline.post(after)
    answered = await eventually(pipeline.sent_to_customer, lambda s: len(s) >= 2)
    assert len(answered) == 2 and answered[1] != shop.wording.greeting  # the bot answers again
