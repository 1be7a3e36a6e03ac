"""A product question end to end, on the real broker, Redis, SQLite catalog and the simulator: a signed webhook
from the simulator reaches ingress, guardrails routes it to the model, the AI stage runs the `openai` SDK's
tool-call round trip (the simulated model asks for `search_products`, reads the demo catalog's answer and writes
from it), the sender sends the reply and persists the trace with its `tool:search_products` step."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
import uvicorn
from prometheus_client import CollectorRegistry

from services.ai.app import build_app as build_ai
from services.ai.app import make_tools
from services.ai.catalog import StoreCatalog
from services.ai.config import AISettings
from services.ai.knowledge import RegistryTenants
from services.guardrails.app import build_app as build_guardrails
from services.guardrails.config import GuardrailsSettings
from services.ingress.app import create_app
from services.ingress.config import IngressSettings
from services.sender.app import build_app as build_sender
from services.sender.config import SenderSettings
from services.sender.ports import RegistryPolicies, SendPolicy
from tests.media_stage import media_stage
from wapipe.catalog import Catalog, open_catalog
from wapipe.catalog.importer import import_feed
from wapipe.runtime.producer import Producer
from wapipe.runtime.worker import Worker
from wapipe.store import ContextCache, Store, open_store
from wapipe.tenants import TenantRegistry
from wapipe_tools.local.servers import free_port
from wapipe_tools.simulator.serve import BackgroundSimulator
from wapipe_tools.simulator.state import SimState

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
TENANTS_DIR = REPO / "config" / "tenants"
TENANT = "100000000000001"


@dataclass
class Stack:
    sim: BackgroundSimulator
    store: Store
    catalog: Catalog

    async def say(self, wa_id: str, text: str) -> str:
        async with httpx.AsyncClient(timeout=10) as http:
            r = await http.post(f"{self.sim.url}/_sim/inbound", json={"from": wa_id, "text": text})
        assert r.status_code == 200 and r.json()["ingress_status"] == 200, r.text
        return str(r.json()["message_id"])

    async def tap(self, wa_id: str, row: dict[str, str]) -> None:
        """The customer picks a row of a list message, as WhatsApp reports it."""
        async with httpx.AsyncClient(timeout=10) as http:
            r = await http.post(f"{self.sim.url}/_sim/inbound", json={"from": wa_id, "type": "interactive", "object": {
                "type": "list_reply", "list_reply": {"id": row["id"], "title": row["title"]}}})
        assert r.status_code == 200 and r.json()["ingress_status"] == 200, r.text

    async def reply_to(self, wa_id: str, timeout: float = 60, nth: int = 1) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=5) as http:
            while time.monotonic() < deadline:
                sent = (await http.get(f"{self.sim.url}/_sim/messages", params={"to": wa_id})).json()["messages"]
                if len(texts := [m for m in sent if m.get("text")]) >= nth:
                    return dict(texts[nth - 1])
                await asyncio.sleep(0.2)
        raise AssertionError(f"no reply {nth} to {wa_id} within {timeout:.0f}s")


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
    catalog_store = open_catalog(store_url)
    await catalog_store.migrate()
    imported = await import_feed(catalog_store, TENANT, REPO / "config" / "catalogs" / "demo.csv")
    assert not imported.errors
    tenants = TenantRegistry(TENANTS_DIR)
    producers = [Producer(kafka_bootstrap, topic_prefix=topic_prefix) for _ in range(3)]
    guardrails = build_guardrails(GuardrailsSettings(**common), redis=redis_client, store=store,
                                  producer=producers[0], registry=CollectorRegistry(), tenants=tenants,
                                  group_id=f"{group_id}-guardrails")
    ai_settings = AISettings(**common, openai_base_url=f"{sim.url}/v1", openai_api_key="dev-openai-key",
                             coalesce_window_s=0.1, ai_tool_base_urls={"orders_api": f"{sim.url}/_sim"},
                             ai_tool_secrets='{"orders_api_token": "dev-orders-token"}')
    http = httpx.AsyncClient(follow_redirects=False)
    tools = make_tools(ai_settings, StoreCatalog(open_catalog(store_url)), http)
    ai = build_ai(ai_settings, redis=redis_client, tenants=RegistryTenants(tenants),
                  context=ContextCache(redis_client, store), traces=store, producer=producers[1],
                  registry=CollectorRegistry(), tools=tools, group_id=f"{group_id}-ai")
    sender = build_sender(SenderSettings(**common, graph_api_url=sim.url), redis=redis_client, store=store,
                          producer=producers[2], registry=CollectorRegistry(), group_id=f"{group_id}-sender",
                          policies=RegistryPolicies(tenants, SendPolicy()))
    media = media_stage(kafka_bootstrap=kafka_bootstrap, topic_prefix=topic_prefix, producer=producers[0],
                        folder=tmp_path, group_id=f"{group_id}-media")
    workers: list[Worker] = [media.worker, guardrails.worker, ai.worker, sender.worker]
    tasks = [asyncio.create_task(w.run()) for w in workers]
    try:
        for w in workers:
            await w.wait_ready(40)
        yield Stack(sim, store, Catalog(catalog_store))
    finally:
        for w in workers:
            await w.stop()
        await asyncio.gather(*tasks)
        await media.close()
        for p in producers:
            p.close()
        await ai.handler.d.chain.close()
        await http.aclose()
        await sender.graph.aclose()
        await catalog_store.close()
        await store.close()
        sim.stop()
        server.should_exit = True
        thread.join(5)


async def test_a_product_question_is_answered_with_the_catalogs_product_and_price(stack: Stack) -> None:
    wa_id = "573105550101"
    wamid = await stack.say(wa_id, "¿tienen la chaqueta impermeable en talla M y sirve para moto?")
    reply = await stack.reply_to(wa_id)

    best = (await stack.catalog.search(TENANT, "chaqueta impermeable moto talla M", limit=3))
    assert best, "the demo catalog has raincoats in size M"
    text = str(reply["text"])
    named = [h for h in best if h.title in text]
    assert named, (text, [h.title for h in best])
    assert any(f"{h.sale_price or h.price} COP" in text for h in named), text  # its price, as the catalog says

    deadline = time.monotonic() + 30
    traces = []
    while time.monotonic() < deadline and not traces:
        traces = [t for t in await stack.store.traces_by_correlation(wamid) if "ai:answered:openai" in t.decision_path]
        await asyncio.sleep(0.2)
    assert traces, "the sender persists the trace"
    path = list(traces[0].decision_path)
    assert "tool:search_products" in path and path.index("tool:search_products") < path.index("ai:answered:openai")
    assert traces[0].route == "ai"

    # several raincoats: they went out as a list message Meta accepts, and the customer's pick is understood
    assert reply["kind"] == "interactive" and reply["body"]["interactive"]["type"] == "list", reply
    rows = reply["body"]["interactive"]["action"]["sections"][0]["rows"]
    assert 2 <= len(rows) <= 10 and all(r["id"].startswith("product:") for r in rows)
    await stack.tap(wa_id, rows[0])
    picked = await stack.reply_to(wa_id, nth=2)
    group = rows[0]["id"].removeprefix("product:")
    product = await stack.catalog.get_product(TENANT, group)
    assert product is not None and product.title in str(picked["text"]), (picked, product.title)


async def test_an_order_question_is_answered_by_the_demo_order_tool(stack: Stack) -> None:
    wa_id = "573105550102"
    await stack.say(wa_id, "hola, ¿dónde va mi pedido 1043?")
    reply = await stack.reply_to(wa_id)
    assert str(reply["text"]).startswith("Tu pedido 1043: "), reply


async def test_an_order_from_the_catalog_is_answered_naming_its_items(stack: Stack) -> None:
    wa_id = "573105550103"
    item = await stack.catalog.get_product(TENANT, "AM90-BLA-40")
    assert item is not None, "the demo catalog has the Air Max 90 in white, size 40"
    async with httpx.AsyncClient(timeout=10) as http:
        r = await http.post(f"{stack.sim.url}/_sim/inbound", json={"from": wa_id, "type": "order", "object": {
            "catalog_id": "1354235123431241", "text": "¿me llega esta semana?", "product_items": [
                {"product_retailer_id": "AM90-BLA-40", "quantity": 1, "item_price": 649900, "currency": "COP"}]}})
    assert r.status_code == 200 and r.json()["ingress_status"] == 200, r.text
    reply = await stack.reply_to(wa_id)
    assert item.title in str(reply["text"]), (reply, item.title)
