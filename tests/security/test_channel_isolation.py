"""No conversation can read or steer another, end to end: ingress (webhook and /api/chat), guardrails, ai, sender
and notifier on the real broker and Redis, the Graph API and the model played by the simulator.

- The direct channel (/api/chat) with a conversation_id equal to a WhatsApp customer's number neither reads that
  customer's history (the model is asked with none of it), nor joins their coalesced burst, nor silences them.
- The answer cache never hands one customer's personalised answer to another; a history-free answer is still
  served from it.

The model is the simulator's, behind a provider that records every request and, like a real model, uses the
conversation it is given: when the prompt carries earlier turns, its answer refers to the last of them. So anything
of one conversation that reaches another shows in the prompt and in the answer.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from schemas.envelope import api_user, conversation_key
from services.ai.app import build_app as build_ai
from services.ai.chain import LLMChain
from services.ai.config import AISettings
from services.ai.knowledge import RegistryTenants
from services.ai.metrics import AIMetrics
from services.ai.providers import LLMRequest, LLMResult
from services.ai.providers.openai_compat import OpenAIProvider
from services.guardrails.app import build_app as build_guardrails
from services.guardrails.config import GuardrailsSettings
from services.ingress.app import create_app as create_ingress
from services.ingress.config import IngressSettings
from services.notifier.app import build_app as build_notifier
from services.notifier.config import NotifierSettings
from services.sender.app import build_app as build_sender
from services.sender.config import SenderSettings
from services.sender.ports import RegistryPolicies, SendPolicy
from tests.media_stage import media_stage
from tests.security.conftest import meta_bytes, sample_doc, signed
from wapipe.runtime.producer import Producer
from wapipe.runtime.worker import Worker
from wapipe.state.shadow import ShadowMode
from wapipe.store import ContextCache, ConversationStore, Turn, open_store
from wapipe.tenants import TenantRegistry, load_tenant
from wapipe_tools.simulator.serve import BackgroundSimulator
from wapipe_tools.simulator.state import SimState

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TENANTS_DIR = Path(__file__).resolve().parents[2] / "config" / "tenants"
TENANT = "100000000000001"
SECRET = "isolation-suite-app-secret-41d7"
API_KEY = "isolation-suite-api-chat-key-93"
INTERNAL = "573000000099"
CONSULT = "¿me recomiendan unos tenis para correr en montaña?"  # guardrails sends these to the model
BOOTS = "¿tienen botas de cuero negras para dama?"
JACKET = "¿qué chaqueta me sirve para tierra fría?"
PRIVATE = "Listo Valentina Gómez, tu pedido va para la Calle 45 # 12-30, Chapinero."


class AttentiveModel:
    """The simulator's model, recorded; its answer refers to the last earlier turn of the prompt, if any."""

    name = "openai"

    def __init__(self, inner: OpenAIProvider) -> None:
        self.inner = inner
        self.calls: list[LLMRequest] = []

    async def complete(self, req: LLMRequest) -> LLMResult:
        self.calls.append(req)
        result = await self.inner.complete(req)
        earlier = [m.content for m in req.messages[1:-1]]
        if not earlier:
            return result
        doc = json.loads(result.text)
        doc["answer"] = f"{earlier[-1]} {doc['answer']}"
        return replace(result, text=json.dumps(doc, ensure_ascii=False))

    async def close(self) -> None:
        await self.inner.close()

    def asked(self, text: str) -> list[LLMRequest]:
        """The requests whose customer message (the last one) holds `text`."""
        return [c for c in self.calls if text in c.messages[-1].content]


@dataclass
class Stack:
    sim: BackgroundSimulator
    ingress: httpx.AsyncClient
    store: ConversationStore
    redis: aioredis.Redis
    model: AttentiveModel
    sent: list[str] = field(default_factory=list)

    async def whatsapp(self, number: str, text: str) -> None:
        """A customer's message as Meta delivers it: a signed webhook, keyed by the phone number (no BSUID)."""
        doc = sample_doc("message_text")
        value = doc["entry"][0]["changes"][0]["value"]
        value["contacts"][0].pop("user_id")
        value["contacts"][0]["wa_id"] = number
        wamid = f"wamid.{uuid.uuid4().hex}"
        value["messages"][0] = {"from": number, "id": wamid, "timestamp": str(int(time.time())), "type": "text",
                                "text": {"body": text}}
        body = meta_bytes(doc)
        r = await self.ingress.post("/webhook", content=body, headers=signed(body, SECRET))
        assert r.status_code == 200, r.text
        self.sent.append(wamid)

    async def chat(self, conversation_id: str, text: str) -> dict[str, Any]:
        r = await self.ingress.post("/api/chat", json={"conversation_id": conversation_id, "text": text},
                                    headers={"Authorization": f"Bearer {API_KEY}"})
        assert r.status_code == 200, r.text
        doc: dict[str, Any] = r.json()
        return doc

    async def sent_to(self, number: str) -> list[str]:
        async with httpx.AsyncClient(timeout=5) as http:
            r = await http.get(f"{self.sim.url}/_sim/messages", params={"to": number})
        return [m["text"] or "" for m in r.json()["messages"] if m["kind"] == "text"]

    async def wait_sent(self, number: str, count: int, timeout: float = 40) -> list[str]:
        return await eventually(lambda: self.sent_to(number), lambda got: len(got) >= count, timeout)

    async def everything_sent(self) -> list[dict[str, Any]]:
        async with httpx.AsyncClient(timeout=5) as http:
            messages: list[dict[str, Any]] = (await http.get(f"{self.sim.url}/_sim/messages")).json()["messages"]
        return messages


async def eventually(read: Callable[[], Awaitable[Any]], ok: Callable[[Any], bool], timeout: float = 40) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await read()
        if ok(value) or asyncio.get_running_loop().time() > deadline:
            return value
        await asyncio.sleep(0.1)


@pytest.fixture
async def stack(kafka_bootstrap: str, topic_prefix: str, group_id: str, redis_url: str,
                redis_client: aioredis.Redis, tmp_path: Path) -> AsyncIterator[Stack]:
    sim = BackgroundSimulator(SimState(ingress_url=None, status_webhooks=False)).start()
    sim.state.open_window(TENANT, INTERNAL)
    common: dict[str, Any] = {"kafka_bootstrap_servers": kafka_bootstrap, "topic_prefix": topic_prefix,
                              "redis_url": redis_url, "tenants_dir": str(TENANTS_DIR), "_env_file": None}
    store = open_store(f"sqlite:///{tmp_path}/wapipe.db")
    await store.migrate()
    tenants = TenantRegistry(TENANTS_DIR)
    producers = [Producer(kafka_bootstrap, topic_prefix=topic_prefix) for _ in range(5)]
    model = AttentiveModel(OpenAIProvider(base_url=f"{sim.url}/v1", api_key="dev-openai-key",
                                          default_model="gpt-4o-mini", timeout_s=8))
    chain = LLMChain([model], AIMetrics(CollectorRegistry()), total_budget_s=10)
    guardrails = build_guardrails(GuardrailsSettings(**common), redis=redis_client, store=store,
                                  producer=producers[0], registry=CollectorRegistry(), tenants=tenants,
                                  group_id=f"{group_id}-guardrails")
    ai = build_ai(AISettings(**common, coalesce_window_s=1.0, coalesce_max_wait_s=3.0), redis=redis_client,
                  tenants=RegistryTenants(tenants), context=ContextCache(redis_client, store), traces=store,
                  producer=producers[1], registry=CollectorRegistry(), chain=chain, group_id=f"{group_id}-ai")
    sender = build_sender(SenderSettings(**common, graph_api_url=sim.url), redis=redis_client, store=store,
                          producer=producers[2], registry=CollectorRegistry(), group_id=f"{group_id}-sender",
                          policies=RegistryPolicies(tenants, SendPolicy()))
    notifier = build_notifier(NotifierSettings(**common, admin_token=SecretStr("isolation-admin-token-5c2e9a1f")),
                              redis=redis_client, store=store, producer=producers[3], tenants=tenants,
                              registry=CollectorRegistry(), group_id=f"{group_id}-notifier")
    ingress_app = create_ingress(IngressSettings(**common, meta_app_secret=SECRET, api_chat_key=API_KEY,
                                                 api_chat_wait_s=40), producer=producers[4], redis=redis_client,
                                 registry=CollectorRegistry(), tenants=tenants)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=ingress_app), base_url="http://ingress",
                               timeout=60)
    media = media_stage(kafka_bootstrap=kafka_bootstrap, topic_prefix=topic_prefix, producer=producers[0],
                        folder=tmp_path, group_id=f"{group_id}-media")
    workers: list[Worker] = [media.worker, guardrails.worker, ai.worker, sender.worker, notifier.worker]
    tasks = [asyncio.create_task(w.run()) for w in workers]
    try:
        for w in workers:
            await w.wait_ready(60)
        yield Stack(sim, client, store, redis_client, model)
    finally:
        for w in workers:
            await w.stop()
        await asyncio.gather(*tasks)
        await media.close()
        await client.aclose()
        for p in producers:
            p.close()
        await chain.close()
        await sender.graph.aclose()
        await store.close()
        sim.stop()


async def seed_history(store: ConversationStore, number: str) -> None:
    """What a WhatsApp customer's conversation already holds: their words and a person's answer with their data."""
    at = datetime.now(UTC) - timedelta(minutes=5)
    await store.append_turn(Turn(TENANT, number, at, "customer", "Hola, quiero unas botas, me llamo Valentina",
                                 ("wamid.seed.1",)))
    await store.append_turn(Turn(TENANT, number, at + timedelta(seconds=30), "human", PRIVATE, ("wamid.seed.2",)))


def prompt_text(req: LLMRequest) -> str:
    return "\n".join(m.content for m in req.messages)


async def test_the_direct_channel_cannot_read_join_or_silence_a_whatsapp_customer(stack: Stack) -> None:
    number = "573001234567"
    stack.sim.state.open_window(TENANT, number)
    await seed_history(stack.store, number)
    shop = load_tenant(TENANTS_DIR / "demo.yaml")

    # Reads: a direct-channel message under the customer's number is answered from no history at all.
    reply = await stack.chat(number, CONSULT)
    assert reply["llm_called"] is True and reply["route"] == "ai"
    [asked] = stack.model.asked(CONSULT)
    assert [m.role for m in asked.messages] == ["system", "user"]
    assert "Valentina" not in prompt_text(asked) and "Calle 45" not in prompt_text(asked)
    assert "Valentina" not in reply["reply"]

    # Joins: the customer and the direct channel write within one coalescing window; each burst is its own.
    await asyncio.gather(stack.whatsapp(number, BOOTS), stack.chat(number, JACKET))
    [answer] = await stack.wait_sent(number, 1)
    [boots], [jacket] = stack.model.asked(BOOTS), stack.model.asked(JACKET)
    assert boots.messages[-1].content == BOOTS and jacket.messages[-1].content == JACKET
    assert "Valentina" in prompt_text(boots)  # the customer's own answer is built on the customer's own history
    assert "Valentina" not in prompt_text(jacket) and "chaqueta" not in answer

    # Silences: a direct-channel handoff under the customer's number leaves the customer with the bot.
    handed = await stack.chat(number, "quiero hablar con un asesor")
    assert handed["reply"] == shop.wording.handoff
    shadow = ShadowMode(stack.redis)
    assert await shadow.is_active(conversation_key(TENANT, api_user(number)))
    assert not await shadow.is_active(conversation_key(TENANT, number))
    await stack.whatsapp(number, "hola")
    assert (await stack.wait_sent(number, 2))[1] == shop.wording.greeting

    # Nothing of the direct channel went out through the Graph API: the customer got exactly their two answers,
    # and no message at all was addressed to a direct-channel user.
    await asyncio.sleep(1.0)
    assert len(await stack.sent_to(number)) == 2
    assert not [m for m in await stack.everything_sent() if ":" in m["to"]]
    # ... and the customer's stored conversation holds none of the direct channel's turns.
    theirs = await stack.store.last_turns(TENANT, number, 20)
    assert not [t for t in theirs if CONSULT in t.text or JACKET in t.text or t.text == shop.wording.handoff]
    direct = await stack.store.last_turns(TENANT, api_user(number), 20)
    assert direct and all("Valentina" not in t.text for t in direct)


async def test_the_answer_cache_never_carries_one_customers_data_to_another(stack: Stack) -> None:
    ana, bruno = "573001110001", "573001110002"
    for n in (ana, bruno):
        stack.sim.state.open_window(TENANT, n)
    await seed_history(stack.store, ana)

    await stack.whatsapp(ana, BOOTS)
    [to_ana] = await stack.wait_sent(ana, 1)
    assert "Valentina" in to_ana and "Calle 45" in to_ana  # the model did use her conversation

    await stack.whatsapp(bruno, BOOTS)  # the same question, from someone else
    [to_bruno] = await stack.wait_sent(bruno, 1)
    assert "Valentina" not in to_bruno and "Calle 45" not in to_bruno
    assert len(stack.model.asked(BOOTS)) == 2  # a fresh answer, not Ana's from the cache

    # An answer that belongs to nobody (no history, nothing personal) is still cached.
    first = await stack.chat("web-visitor-1", CONSULT)
    again = await stack.chat("web-visitor-2", CONSULT)
    assert (first["route"], first["llm_called"]) == ("ai", True)
    assert (again["route"], again["llm_called"]) == ("ai_cache", False) and again["reply"] == first["reply"]
    assert len(stack.model.asked(CONSULT)) == 1
