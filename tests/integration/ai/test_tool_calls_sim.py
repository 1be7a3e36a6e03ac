"""The tool loop over HTTP: the real `openai` SDK's tool-call round trip against the simulator's model, which
asks for `search_products` / `order_status` and composes its answer from the results it gets back."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

from schemas.events import ReplyRequested
from services.ai.cache import AnswerCache
from services.ai.chain import LLMChain
from services.ai.coalesce import PendingBuffer
from services.ai.cost import PriceTable, SpendLedger
from services.ai.handlers import AIDeps, AIHandler
from services.ai.http_tools import HttpTools
from services.ai.metrics import AIMetrics
from services.ai.providers.openai_compat import OpenAIProvider
from services.ai.tools import ToolBox
from tests.fakes.store import MemoryStore
from tests.unit.ai.fixtures import TENANT, Tenants, request
from tests.unit.ai.tool_fakes import MemoryCatalog
from wapipe.runtime.types import RecordMeta
from wapipe.state.answers import Answers
from wapipe.tenants.tools import HttpTool, ToolHeader, ToolsSettings
from wapipe_tools.simulator.serve import BackgroundSimulator

META = RecordMeta(topic="wa.ai.requests.v1", partition=0, offset=0, key=None, timestamp_ms=None)
ORDERS = HttpTool(name="order_status", description="Estado de un pedido por su número",
                  parameters={"type": "object", "properties": {"order_id": {"type": "string"}},
                              "required": ["order_id"]},
                  url="${orders_api}/orders/{order_id}",
                  header=ToolHeader(name="Authorization", secret="orders_api_token", prefix="Bearer "))
SHOP = replace(TENANT, knowledge_version="tools-1", daily_spend_cap_usd=5.0,
               allowed_hosts=("calzadoymodala80.co", "tiendademo.co"),
               tools=ToolsSettings(allowed_hosts=["127.0.0.1"], http=[ORDERS]))


@pytest.fixture
async def stage(sim: BackgroundSimulator, redis_client: Any) -> AsyncIterator[tuple[AIHandler, MemoryCatalog]]:
    reg = CollectorRegistry()
    metrics = AIMetrics(reg)
    chain = LLMChain([OpenAIProvider(base_url=f"{sim.url}/v1", api_key="dev-openai-key",
                                     default_model="gpt-4o-mini", timeout_s=8.0)], metrics, total_budget_s=8.0)
    catalog = MemoryCatalog()
    async with httpx.AsyncClient(follow_redirects=False) as http:
        tools = ToolBox(catalog, HttpTools(http, dev=True, bases={"orders_api": f"{sim.url}/_sim"},
                                           secrets={"orders_api_token": "dev-orders-token"}))
        store = MemoryStore()
        deps = AIDeps(tenants=Tenants(SHOP), context=store, traces=store, chain=chain,
                      cache=AnswerCache(redis_client, 3600), ledger=SpendLedger(redis_client),
                      prices=PriceTable({"gpt-4o-mini": (0.15, 0.60)}, (1.0, 3.0)),
                      buffer=PendingBuffer(redis_client, window_s=0.05, max_wait_s=1.0), metrics=metrics,
                      answers=Answers(redis_client), tools=tools)
        yield AIHandler(deps), catalog
    await chain.close()


def _reply(emits: Any) -> ReplyRequested:
    ev = emits[0].event
    assert isinstance(ev, ReplyRequested)
    return ev


async def test_a_product_question_round_trips_search_products_through_the_sdk(
        stage: tuple[AIHandler, MemoryCatalog]) -> None:
    handler, catalog = stage
    reply = _reply(await handler(request("¿tienen la chaqueta impermeable en talla M y sirve para moto?",
                                         tenant=SHOP), META))

    assert "Chaqueta impermeable Andes" in reply.payload.text and "189900 COP" in reply.payload.text
    assert "tallas S, M, L" in reply.payload.text
    tenant, query, _ = catalog.queries[0]
    assert tenant == SHOP.tenant and "chaqueta" in query and "talla M" in query
    t = reply.trace
    assert t.decision_path[-2:] == ["tool:search_products", "ai:answered:openai"]
    assert t.attrs["tool_1_results"] == 1 and t.attrs["llm_calls"] == 2 and reply.payload.route == "ai"


async def test_an_order_question_calls_the_tenants_http_tool_on_the_simulator(
        stage: tuple[AIHandler, MemoryCatalog]) -> None:
    handler, _ = stage
    reply = _reply(await handler(request("¿dónde va mi pedido 1043?", tenant=SHOP), META))
    assert reply.payload.text.startswith("Tu pedido 1043: ")
    assert "tool:order_status" in reply.trace.decision_path and reply.trace.attrs["tool_1_outcome"] == "ok"


async def test_a_question_without_products_gets_no_tool_call(stage: tuple[AIHandler, MemoryCatalog]) -> None:
    handler, catalog = stage
    reply = _reply(await handler(request("¿Hacen envíos a Cali?", tenant=SHOP), META))
    assert not any(s.startswith("tool:") for s in reply.trace.decision_path) and catalog.queries == []
    assert json.dumps(reply.trace.attrs).count("tool_") == 0
