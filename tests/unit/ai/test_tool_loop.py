"""The AI stage's tool loop over fakes of its own ports: native tool calls, their results, the bounds.

The chain, the tool box, the loop and the handler are the production code; the model is a scripted provider
that asks for tools, and the catalog is an in-memory `CatalogPort`.
"""

from __future__ import annotations

import json
from dataclasses import replace

from prometheus_client import CollectorRegistry

from schemas.events import HandoffRequested, ReplyRequested
from services.ai.chain import LLMChain
from services.ai.cost import PriceTable
from services.ai.handlers import AIDeps, AIHandler
from services.ai.metrics import AIMetrics
from services.ai.tenant import TenantAI
from services.ai.tools import ToolBox
from tests.fakes.store import MemoryStore
from tests.support import ManualClock
from tests.unit.ai.fixtures import (
    TENANT,
    MemoryAnswerCache,
    MemoryCancels,
    MemoryCoalesce,
    MemorySpend,
    Tenants,
    request,
)
from tests.unit.ai.tool_fakes import MemoryCatalog, ToolModel, call
from wapipe.runtime.types import RecordMeta
from wapipe.tenants.tools import ToolsSettings

META = RecordMeta(topic="wa.ai.requests.v1", partition=0, offset=0, key=None, timestamp_ms=None)
PRICES = PriceTable({"gpt-4o-mini": (0.15, 0.60)}, (1.0, 3.0))
SHOP = replace(TENANT, daily_spend_cap_usd=5.0)
QUESTION = "¿tienen la chaqueta impermeable en talla M y sirve para moto?"


def said(text: str) -> str:
    return json.dumps({"answer": text, "handoff": False, "reason": ""}, ensure_ascii=False)


def handler(m: ToolModel, *, tenant: TenantAI = SHOP, catalog: MemoryCatalog | None = None,
            spend: MemorySpend | None = None, clock: ManualClock | None = None,
            budget_s: float = 20.0) -> tuple[AIHandler, CollectorRegistry, MemorySpend]:
    reg = CollectorRegistry()
    metrics = AIMetrics(reg)
    spend = spend or MemorySpend()
    store = MemoryStore()
    deps = AIDeps(tenants=Tenants(tenant), context=store, traces=store,
                  chain=LLMChain([m], metrics, retries_on_5xx=0, total_budget_s=6.0, backoff_s=0.0),
                  cache=MemoryAnswerCache(), ledger=spend, prices=PRICES, buffer=MemoryCoalesce(), metrics=metrics,
                  answers=MemoryCancels(), tools=ToolBox(catalog or MemoryCatalog(), None), answer_budget_s=budget_s,
                  **({"clock": clock} if clock else {}))
    return AIHandler(deps), reg, spend


def reply_of(emits: object) -> ReplyRequested:
    assert isinstance(emits, list) and len(emits) == 1
    ev = emits[0].event
    assert isinstance(ev, ReplyRequested)
    return ev


async def test_a_product_question_is_answered_from_the_search_tool_with_its_trace_step() -> None:
    m = ToolModel((call("search_products", query="chaqueta impermeable", size="M"),),
                  said("Sí, la Chaqueta impermeable Andes cuesta $189.900 y hay talla M."))
    catalog = MemoryCatalog()
    h, reg, _ = handler(m, catalog=catalog)
    reply = reply_of(await h(request(QUESTION, tenant=SHOP), META))

    assert reply.payload.text == "Sí, la Chaqueta impermeable Andes cuesta $189.900 y hay talla M."
    assert catalog.queries == [(SHOP.tenant, "chaqueta impermeable talla M", 5)]
    t = reply.trace
    assert "tool:search_products" in t.decision_path and t.decision_path[-1] == "ai:answered:openai"
    assert (t.attrs["tool_1_outcome"], t.attrs["tool_1_results"]) == ("ok", 1)
    assert isinstance(t.attrs["tool_1_latency_s"], float) and t.attrs["tool_calls"] == 1
    assert t.attrs["llm_calls"] == 2 and t.attrs["llm_input_tokens"] == 200
    # the model was offered the tools natively, and read the result as a tool message answering its call
    first, second = m.calls
    assert [s.name for s in first.tools] == ["search_products", "get_product", "handoff"]
    assistant, result = second.messages[-2], second.messages[-1]
    assert assistant.role == "assistant" and assistant.tool_calls[0].name == "search_products"
    assert result.role == "tool" and result.tool_call_id == "call_1" and not result.tool_error
    product = json.loads(result.content)["results"][0]
    assert product["price"] == "189900 COP" and "internal_cost" not in product  # only what the model needs
    assert reg.get_sample_value("wapipe_ai_tool_calls_total",
                                {"tenant": SHOP.tenant, "tool": "search_products", "outcome": "ok"}) == 1


async def test_the_loop_stops_after_max_rounds_and_asks_for_an_answer_without_tools() -> None:
    tenant = replace(SHOP, tools=ToolsSettings(max_rounds=2))
    m = ToolModel((call("search_products", query="chaqueta"),), (call("search_products", query="chaqueta"),),
                  said("La Chaqueta impermeable Andes está disponible."))
    h, _, _ = handler(m, tenant=tenant)
    reply = reply_of(await h(request("¿tienen chaquetas?", tenant=tenant), META))

    assert [len(c.tools) > 0 for c in m.calls] == [True, True, False]  # two rounds, then no tools offered
    assert reply.trace.decision_path.count("tool:search_products") == 2
    assert reply.payload.text == "La Chaqueta impermeable Andes está disponible."


async def test_a_model_that_keeps_asking_for_tools_gets_the_fallback_not_a_crash() -> None:
    m = ToolModel((call("search_products", query="chaqueta"),))  # asks for a tool on every call, never answers
    h, _, _ = handler(m)
    reply = reply_of(await h(request("¿tienen chaquetas?", tenant=SHOP), META))

    assert len(m.calls) == SHOP.tools.max_rounds + 1 == 4
    assert reply.trace.decision_path.count("tool:search_products") == 3
    assert reply.trace.decision_path[-1] == "ai:fallback:guard_empty" and reply.payload.route == "ai_fallback"


async def test_a_failing_tool_becomes_an_error_result_the_model_reads() -> None:
    m = ToolModel((call("search_products", query="chaqueta"),),
                  said("Ahora no puedo consultar el catálogo; ¿te comunico con un asesor?"))
    h, _, _ = handler(m, catalog=MemoryCatalog(fail=True))
    reply = reply_of(await h(request("¿tienen chaquetas?", tenant=SHOP), META))

    result = m.calls[1].messages[-1]
    assert result.role == "tool" and result.tool_error and "error" in json.loads(result.content)
    assert reply.trace.attrs["tool_1_outcome"] == "error" and reply.trace.attrs["tool_1_results"] == 0
    assert reply.payload.route == "ai"


async def test_a_tool_that_does_not_answer_times_out_into_an_error_result() -> None:
    m = ToolModel((call("get_product", id="CHQ-IMP"),), (call("search_products", query="chaqueta"),),
                  said("No pude consultarlo ahora."))
    catalog = MemoryCatalog(hang=True)
    h, _, _ = handler(m, catalog=catalog)
    box = h.d.tools
    assert isinstance(box, ToolBox)
    box._catalog_timeout_s = 0.05  # the catalog hangs for ever: only the timeout ends the call
    reply = reply_of(await h(request("¿y la chaqueta?", tenant=SHOP), META))

    assert reply.trace.attrs["tool_1_outcome"] == "ok"  # get_product does not hang in the fake
    assert reply.trace.attrs["tool_2_outcome"] == "timeout"
    assert m.calls[2].messages[-1].tool_error


async def test_unknown_tools_and_malformed_arguments_are_error_results() -> None:
    m = ToolModel((call("delete_orders", cid="a"), replace(call("search_products", cid="b"), arguments="{oops")),
                  said("¿Me cuentas qué producto buscas?"))
    h, _, _ = handler(m)
    reply = reply_of(await h(request("hola, busco algo", tenant=SHOP), META))

    a, b = m.calls[1].messages[-2:]
    assert (a.tool_call_id, a.tool_error, b.tool_call_id, b.tool_error) == ("a", True, "b", True)
    assert (reply.trace.attrs["tool_1_outcome"], reply.trace.attrs["tool_2_outcome"]) == ("unknown_tool",
                                                                                          "bad_arguments")


async def test_the_spend_cap_covers_every_round_of_the_loop() -> None:
    # room for the first round's worst case, not for the second one (which carries the tool result too)
    probe = ToolModel(said("x"))
    h0, _, _ = handler(probe)
    await h0(request("¿tienen chaquetas?", tenant=SHOP), META)
    first_worst = PRICES.worst_case(probe.calls[0])
    tenant = replace(SHOP, daily_spend_cap_usd=first_worst * 1.01)
    m = ToolModel((call("search_products", query="chaqueta"),), said("Hay chaquetas."))
    spend = MemorySpend()
    h, reg, _ = handler(m, tenant=tenant, spend=spend)
    reply = reply_of(await h(request("¿tienen chaquetas?", tenant=tenant), META))

    assert len(m.calls) == 1 and reply.trace.decision_path[-1] == "ai:fallback:spend_cap"
    assert spend.held == {} and spend.day[tenant.tenant] > 0  # the first round was paid, nothing left held
    assert reg.get_sample_value("wapipe_llm_spend_cap_hits_total", {"tenant": tenant.tenant}) == 1


async def test_the_answer_deadline_covers_the_tool_calls_too() -> None:
    clock = ManualClock()
    patient = replace(SHOP, timeout_s=15.0)
    m = ToolModel((call("search_products", query="chaqueta"),), said("Hay chaquetas."),
                  on_call=lambda: clock.advance(12.0))  # each model round takes 12 s of the 20 s budget
    h, _, _ = handler(m, tenant=patient, clock=clock, budget_s=20.0)
    reply = reply_of(await h(request("¿tienen chaquetas?", tenant=patient), META))

    # the second round gets what is left of the budget (the chain takes off what it measures itself)
    assert 14.0 < m.calls[0].timeout_s <= 15.0 and 7.0 < m.calls[1].timeout_s <= 8.0
    clock2 = ManualClock()
    m2 = ToolModel((call("search_products", query="chaqueta"),), said("Hay chaquetas."),
                   on_call=lambda: clock2.advance(25.0))
    h2, _, _ = handler(m2, clock=clock2, budget_s=20.0)
    late = reply_of(await h2(request("¿tienen chaquetas?", tenant=SHOP), META))
    assert len(m2.calls) == 1 and late.trace.decision_path[-1] == "ai:fallback:timeout"
    assert reply.payload.route == "ai"


async def test_the_handoff_tool_hands_the_conversation_over() -> None:
    m = ToolModel((call("handoff", reason="quiere hablar de un pedido al por mayor"),))
    h, _, _ = handler(m)
    emits = await h(request("quiero comprar 200 pares para mi tienda", tenant=SHOP), META)

    assert len(emits) == 1 and isinstance(emits[0].event, HandoffRequested)
    assert emits[0].event.payload.text == "quiere hablar de un pedido al por mayor"
    assert emits[0].event.trace.decision_path[-2:] == ["tool:handoff", "ai:handoff"]


async def test_an_invented_price_is_caught_by_the_output_guard() -> None:
    m = ToolModel((call("search_products", query="chaqueta"),),
                  said("La Chaqueta impermeable Andes cuesta $159.900."))  # the catalog says 189900
    h, _, _ = handler(m)
    reply = reply_of(await h(request("¿cuánto vale la chaqueta impermeable?", tenant=SHOP), META))

    assert reply.trace.decision_path[-1] == "ai:fallback:guard_unknown_price"
    assert "159" not in reply.payload.text


async def test_a_tenant_without_tools_is_offered_none() -> None:
    tenant = replace(SHOP, tools=ToolsSettings(enabled=False))
    m = ToolModel(said("Hola, ¿qué buscas?"))
    h, _, _ = handler(m, tenant=tenant)
    reply_of(await h(request("hola", tenant=tenant), META))
    assert m.calls[0].tools == ()


async def test_answers_built_on_tool_results_are_not_cached() -> None:
    m = ToolModel((call("search_products", query="chaqueta"),), said("Hay chaquetas."))
    h, _, _ = handler(m)
    await h(request("¿tienen chaquetas?", tenant=SHOP), META)
    cache = h.d.cache
    assert isinstance(cache, MemoryAnswerCache) and cache.answers == {}
