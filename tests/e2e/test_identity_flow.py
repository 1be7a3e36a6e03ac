"""Identity, identity changes and deleted messages through the whole pipeline: signed webhooks as Meta sends them
into ingress (its identity map on Redis and the SQLite store), guardrails, the AI stage on the simulated model and
the sender on the simulated Graph API, every service on the real broker and Redis, in this process.

- Webhooks alternating wa_id only and wa_id + user_id for one customer land on one conversation key.
- A number change (a `system` message) gets no reply, and the customer's history moves to their new identity.
- A message deleted before its answer went out gets no answer at all: the revoke is consumed by guardrails before
  the AI stage starts consuming, so the order does not depend on how fast anything runs.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry

from schemas.meta.signature import webhook_headers
from schemas.topics import AI_REQUESTS, INBOUND
from services.ai.app import build_app as build_ai
from services.ai.config import AISettings
from services.ai.knowledge import RegistryTenants
from services.guardrails.app import build_app as build_guardrails
from services.guardrails.config import GuardrailsSettings
from services.ingress.app import create_app
from services.ingress.config import IngressSettings
from services.sender.app import build_app as build_sender
from services.sender.config import SenderSettings
from tests.media_stage import media_stage
from tests.support import read_topic, unique
from wapipe.runtime.producer import Producer
from wapipe.runtime.worker import Worker
from wapipe.store import ContextCache, Store, TraceRecord, open_store
from wapipe.tenants import TenantRegistry, load_tenant
from wapipe_tools.simulator.serve import BackgroundSimulator
from wapipe_tools.simulator.state import SimState

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TENANTS_DIR = Path(__file__).resolve().parents[2] / "config" / "tenants"
DATA = Path(__file__).resolve().parents[1] / "data" / "meta" / "v25.0"
TENANT = "100000000000001"
T = TypeVar("T")


def webhook(name: str, ts: int, **message: Any) -> dict[str, Any]:
    """A sample as Meta sends it, with its message's fields (a new id, the time) set."""
    doc: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text())
    msg = doc["entry"][0]["changes"][0]["value"]["messages"][0]
    msg.update({"id": f"wamid.{uuid.uuid4().hex}", "timestamp": str(ts), **message})
    return doc


def text_from(wa_id: str | None, user_id: str | None, ts: int, text: str) -> dict[str, Any]:
    doc = webhook("message_text", ts, text={"body": text})
    value = doc["entry"][0]["changes"][0]["value"]
    msg = value["messages"][0]
    contact: dict[str, Any] = {"profile": {"name": "Valentina Gómez"}}
    msg.pop("from", None)
    msg.pop("from_user_id", None)
    if wa_id:
        contact["wa_id"] = msg["from"] = wa_id
    if user_id:
        contact["user_id"] = msg["from_user_id"] = user_id
    value["contacts"] = [contact]
    return doc


def wamid_of(doc: dict[str, Any]) -> str:
    return str(doc["entry"][0]["changes"][0]["value"]["messages"][0]["id"])


@dataclass
class Pipeline:
    ingress: httpx.AsyncClient
    sim: BackgroundSimulator
    store: Store
    secret: str
    bootstrap: str
    prefix: str
    start_ai: Callable[[], Awaitable[None]]

    async def post(self, doc: dict[str, Any]) -> None:
        raw = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
        r = await self.ingress.post("/webhook", content=raw, headers=webhook_headers(raw, self.secret))
        assert r.status_code == 200, r.text

    def sent_to(self, to: str) -> list[str]:
        return [m.text or "" for m in self.sim.state.messages_to(to)]

    async def traces(self, wamid: str) -> list[TraceRecord]:
        return await self.store.traces_by_correlation(wamid)


async def eventually(read: Callable[[], Awaitable[T]], ok: Callable[[T], bool], timeout: float = 60) -> T:
    """Poll `read` until `ok` (a generous deadline: the machine may be slow); returns the last value read."""
    deadline = time.monotonic() + timeout
    while True:
        value = await read()
        if ok(value) or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.1)


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
    """Ingress, guardrails and the sender running; the AI stage starts when the test says so."""
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
        media = media_stage(kafka_bootstrap=kafka_bootstrap, topic_prefix=topic_prefix, producer=producer,
                            folder=tmp_path, group_id=unique("g"))
        stack.push_async_callback(media.close)
        await _run(stack, media.worker, guardrails.worker, sender.worker)

        async def start_ai() -> None:
            ai = build_ai(AISettings(**conn, openai_base_url=f"{sim.url}/v1", openai_api_key="dev-openai-key",
                                     coalesce_window_s=0.2),
                          redis=redis_client, tenants=RegistryTenants(tenants),
                          context=ContextCache(redis_client, store), traces=store, producer=producer,
                          registry=CollectorRegistry(), group_id=unique("g"))
            stack.push_async_callback(ai.handler.d.chain.close)
            await _run(stack, ai.worker)

        secret = sim.state.app_secret
        app = create_app(IngressSettings(_env_file=None, **conn, meta_app_secret=secret,  # type: ignore[call-arg]
                                         meta_verify_token="identity-e2e-verify-token",
                                         api_chat_key="identity-e2e-api-chat-key"),
                         producer=producer, redis=redis_client, store=store, registry=CollectorRegistry())
        client = await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ingress"))
        yield Pipeline(client, sim, store, secret, kafka_bootstrap, topic_prefix, start_ai)


async def test_webhooks_alternating_ids_land_on_one_conversation(pipeline: Pipeline) -> None:
    phone, bsuid, base = "573101110001", "CO.3100001110001", int(time.time()) - 10  # Meta's past seconds
    sent = [text_from(phone, None, base, "hola"), text_from(phone, bsuid, base + 1, "¿a qué hora abren?"),
            text_from(phone, None, base + 2, "¿aceptan Nequi?"), text_from(None, bsuid, base + 3, "gracias")]
    for doc in sent:
        await pipeline.post(doc)
    # the last one has no phone number: the reply goes to the business-scoped id
    await eventually(lambda: pipeline.traces(wamid_of(sent[-1])), lambda ts: any(t.outcome == "replied" for t in ts))
    records = await asyncio.to_thread(read_topic, pipeline.bootstrap, pipeline.prefix + INBOUND, expect=4)
    assert {r.key for r in records} == {f"{TENANT}:{phone}"}  # one key, one partition, one order
    for doc in sent:
        traces = await pipeline.traces(wamid_of(doc))
        assert {t.conversation for t in traces} == {f"{TENANT}:{phone}"}
    turns = await eventually(lambda: pipeline.store.last_turns(TENANT, phone, 10), lambda ts: len(ts) >= 8)
    # one history for the whole conversation (turns are ordered by time: Meta's whole seconds for the customer's,
    # ours for the replies, so within a second their order is not the conversation's)
    assert Counter(t.role for t in turns) == {"customer": 4, "assistant": 4}
    assert {t.message_ids[0] for t in turns if t.role == "customer"} == {wamid_of(doc) for doc in sent}
    assert len(pipeline.sent_to(phone)) == 3


async def test_a_number_change_gets_no_reply_and_the_history_moves(pipeline: Pipeline) -> None:
    shop = load_tenant(TENANTS_DIR / "demo.yaml")
    old_phone, old_bsuid = "573001234567", "CO.1297408873021955"  # the system sample's customer
    new_phone, new_bsuid = "573009876543", "CO.5550001112223334"
    base = int(time.time()) - 10  # Meta's timestamps: whole seconds, in the past
    hello = text_from(old_phone, old_bsuid, base, "hola")
    await pipeline.post(hello)
    await eventually(lambda: pipeline.store.last_turns(TENANT, old_bsuid), lambda ts: len(ts) == 2)
    assert pipeline.sent_to(old_phone) == [shop.wording.greeting]

    change = webhook("message_system_user_changed_number", base + 1)
    await pipeline.post(change)
    after = text_from(new_phone, new_bsuid, base + 2, "buenas tardes")
    await pipeline.post(after)  # same key as the change: decided after it

    [system] = await eventually(lambda: pipeline.traces(wamid_of(change)), lambda ts: len(ts) == 1)
    assert (system.outcome, system.route, system.conversation) == ("system", "system", f"{TENANT}:{new_bsuid}")
    turns = await eventually(lambda: pipeline.store.last_turns(TENANT, new_bsuid), lambda ts: len(ts) == 4)
    assert Counter((t.role, t.text) for t in turns) == {  # the old history came along
        ("customer", "hola"): 1, ("customer", "buenas tardes"): 1, ("assistant", shop.wording.greeting): 2}
    assert await pipeline.store.last_turns(TENANT, old_bsuid) == []
    assert pipeline.sent_to(new_phone) == [shop.wording.greeting]
    assert pipeline.sent_to(old_phone) == [shop.wording.greeting]  # nothing answered the system message
    assert sum(1 for m in pipeline.sim.state.sent) == 2


async def test_a_message_deleted_before_its_answer_went_out_gets_no_answer(pipeline: Pipeline) -> None:
    phone, base = "573101110003", int(time.time()) - 10
    question = text_from(phone, None, base, "busco unas botas de cuero para regalar, ¿cuál me recomiendan?")
    await pipeline.post(question)
    asked = await asyncio.to_thread(read_topic, pipeline.bootstrap, pipeline.prefix + AI_REQUESTS, expect=1)
    assert [r.event().correlation_id for r in asked] == [wamid_of(question)]  # waiting for the model
    revoke = webhook("message_revoke", base + 5, **{"from": phone, "revoke": {
        "original_message_id": wamid_of(question)}})
    revoke["entry"][0]["changes"][0]["value"]["contacts"] = [{"profile": {"name": "Ana"}, "wa_id": phone}]
    revoke["entry"][0]["changes"][0]["value"]["messages"][0].pop("from_user_id")
    await pipeline.post(revoke)
    [deleted] = await eventually(lambda: pipeline.traces(wamid_of(revoke)), lambda ts: len(ts) == 1)
    assert deleted.outcome == "revoked"

    await pipeline.start_ai()  # only now does the AI stage read the request
    traces = await eventually(lambda: pipeline.traces(wamid_of(question)), lambda ts: len(ts) == 1)
    assert [t.outcome for t in traces] == ["cancelled"] and "ai:cancelled:revoked" in traces[0].decision_path
    assert pipeline.sent_to(phone) == [] and pipeline.sim.state.reads == []  # no answer, not even a read receipt
    assert pipeline.sim.state.calls == 0
