"""The AI handler with the real `openai` SDK against the simulator's OpenAI-compatible endpoint, on real Redis."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from schemas.envelope import derive_id
from schemas.events import HandoffRequested, ReplyRequested
from tests.integration.ai.conftest import Wired, tenant_with
from tests.support import ManualClock, unique
from tests.unit.ai.fixtures import TENANT, request
from wapipe.runtime.types import RecordMeta
from wapipe.store.port import Turn

META = RecordMeta(topic="wa.ai.requests.v1", partition=0, offset=0, key=None, timestamp_ms=None)


def _reply(emits: Any) -> ReplyRequested:
    assert emits[0].topic == "wa.outbound.v1"
    event = emits[0].event
    assert isinstance(event, ReplyRequested)
    return event


async def test_normal_answer_with_tokens_cost_and_deterministic_reply_id(
        wire: Callable[..., Wired], set_llm: Callable[..., None]) -> None:
    w = wire()
    ev = request("¿Hacen envíos a Cali?")
    reply = _reply(await w.handler(ev, META))
    assert reply.payload.text == "Sobre envíos: Hacemos envíos a todo el país; llegan en 2 a 5 días hábiles."
    assert reply.payload.reply_id == derive_id(ev.correlation_id, "ai", 0)
    assert reply.payload.origin == "ai" and reply.payload.in_reply_to == ev.payload.message_id
    t = reply.trace
    assert t.llm_called and not t.cache_hit and t.route == "ai"
    assert t.attrs["llm_input_tokens"] > 0 and t.attrs["llm_cost_usd"] > 0
    assert t.attrs["conversation_cost_usd"] == t.attrs["llm_cost_usd"]
    assert w.metric("wapipe_llm_tokens_total", tenant=TENANT.tenant, model="gpt-4o-mini", kind="output") > 0
    assert [s.stage for s in t.stages] == ["ai"]


async def test_repeated_question_is_answered_from_the_cache(wire: Callable[..., Wired],
                                                            set_llm: Callable[..., None]) -> None:
    w = wire()
    first = _reply(await w.handler(request("¿Cuáles son los medios de pago?"), META))
    again = _reply(await w.handler(request("cuales son los medios de PAGO"), META))  # another customer
    assert again.payload.text == first.payload.text
    assert again.trace.cache_hit and not again.trace.llm_called and again.trace.route == "ai_cache"
    assert w.metric("wapipe_llm_calls_total", provider="openai", outcome="ok") == 1


async def test_an_answer_built_on_a_conversation_is_not_cached_for_others(
        wire: Callable[..., Wired], set_llm: Callable[..., None]) -> None:
    w = wire()
    ana = unique("u")
    await w.store.append_turn(Turn(TENANT.tenant, ana, datetime.now(UTC), "customer",
                                   "Soy Ana Pérez, vivo en la Calle 45 # 12-30", ("wamid.before",)))
    first = _reply(await w.handler(request("¿Cuáles son los medios de pago?", user=ana), META))
    other = _reply(await w.handler(request("¿Cuáles son los medios de pago?"), META))  # no history: stored
    third = _reply(await w.handler(request("¿Cuáles son los medios de pago?"), META))
    assert first.trace.llm_called and other.trace.llm_called and not other.trace.cache_hit
    assert third.trace.cache_hit and not third.trace.llm_called
    assert w.metric("wapipe_ai_answer_cache_total", tenant=TENANT.tenant, outcome="refused_history") == 1
    assert w.metric("wapipe_ai_answer_cache_total", tenant=TENANT.tenant, outcome="stored") == 1


async def test_an_answer_with_numbers_the_tenant_never_gave_is_not_cached(
        wire: Callable[..., Wired], set_llm: Callable[..., None]) -> None:
    w = wire()  # the simulator says "tallas de la 34 a la 44"; the tenant's knowledge has no such numbers
    first = _reply(await w.handler(request("¿Qué tallas de calzado tienen?"), META))
    again = _reply(await w.handler(request("¿Qué tallas de calzado tienen?"), META))
    assert "34" in (first.payload.text or "") and again.trace.llm_called and not again.trace.cache_hit
    assert w.metric("wapipe_ai_answer_cache_total", tenant=TENANT.tenant, outcome="refused_number") == 2


async def test_model_timeout_falls_back_within_the_bound(wire: Callable[..., Wired],
                                                         set_llm: Callable[..., None]) -> None:
    set_llm(timeout=True)  # the model never answers
    w = wire(tenant_with(timeout_s=1.0), total_budget_s=120.0)
    started = time.monotonic()
    reply = _reply(await w.handler(request("¿a qué horario abren?"), META))
    elapsed = time.monotonic() - started
    assert reply.payload.text == TENANT.faqs[0].answer and reply.trace.route == "ai_fallback"
    assert "ai:fallback:llm_unavailable" in reply.trace.decision_path
    assert reply.trace.attrs["llm_attempts"] == "openai:timeout"
    # The tenant's 1 s bound ended the wait, not the 120 s chain budget (slack for a busy machine).
    assert elapsed < 1.0 + 30, f"the customer waited {elapsed:.1f}s for a 1s bound"


async def test_5xx_is_retried_once_then_answered(wire: Callable[..., Wired], set_llm: Callable[..., None]) -> None:
    set_llm(fail_next=1, fail_status=503)
    reply = _reply(await wire().handler(request("¿tienen talla 40?"), META))
    assert reply.trace.route == "ai" and reply.trace.attrs["llm_attempts"] == "openai:error_5xx,openai:ok"


async def test_persistent_5xx_retries_then_falls_back(wire: Callable[..., Wired],
                                                      set_llm: Callable[..., None]) -> None:
    set_llm(fail_rate=1.0, fail_status=500)
    w = wire()
    reply = _reply(await w.handler(request("quiero cambiar un pedido"), META))
    assert reply.payload.text == TENANT.fallback_text and reply.trace.route == "ai_fallback"
    assert reply.trace.attrs["llm_attempts"] == "openai:error_5xx,openai:error_5xx"
    assert not reply.trace.llm_called
    assert w.metric("wapipe_ai_fallbacks_total", tenant=TENANT.tenant, reason="llm_unavailable") == 1


async def test_circuit_opens_after_failures_and_recovers_after_cool_down(
        wire: Callable[..., Wired], set_llm: Callable[..., None]) -> None:
    set_llm(fail_rate=1.0)
    clock = ManualClock()
    w = wire(retries_on_5xx=0, circuit_failures=2, circuit_cooldown_s=30, circuit_clock=clock)
    for _ in range(2):
        await w.handler(request("hola, una pregunta"), META)
    assert w.metric("wapipe_llm_circuit_state", provider="openai") == 1
    skipped = _reply(await w.handler(request("¿hay descuentos?"), META))
    assert skipped.trace.attrs["llm_attempts"] == "openai:circuit_open" and skipped.trace.route == "ai_fallback"
    set_llm()  # the model is healthy again
    clock.advance(29.5)
    still = _reply(await w.handler(request("¿y descuentos hoy?"), META))
    assert still.trace.attrs["llm_attempts"] == "openai:circuit_open"  # the cool-down is not over
    clock.advance(0.5)
    probe = _reply(await w.handler(request("¿hay descuentos esta semana?"), META))
    assert probe.trace.route == "ai" and probe.trace.attrs["llm_attempts"] == "openai:ok"
    assert w.metric("wapipe_llm_circuit_state", provider="openai") == 0


async def test_daily_spend_cap_switches_to_fallback(wire: Callable[..., Wired], set_llm: Callable[..., None]) -> None:
    first = _reply(await wire(tenant_with(daily_spend_cap_usd=1.0)).handler(request("¿hacen envíos a Pasto?"), META))
    spent = first.trace.attrs["tenant_day_cost_usd"]
    assert first.trace.route == "ai" and spent > 0
    w = wire(tenant_with(daily_spend_cap_usd=spent))  # the day's spend has reached the cap
    capped = _reply(await w.handler(request("¿hacen envíos a Bogotá mañana?"), META))
    assert capped.trace.route == "ai_fallback" and "ai:fallback:spend_cap" in capped.trace.decision_path
    assert capped.payload.text == TENANT.faqs[1].answer and not capped.trace.llm_called
    assert w.metric("wapipe_llm_spend_cap_hits_total", tenant=TENANT.tenant) == 1


async def test_model_asks_for_a_person_becomes_handoff(wire: Callable[..., Wired],
                                                       set_llm: Callable[..., None]) -> None:
    ev = request("tengo un reclamo, quiero hablar con un asesor")
    emits = await wire().handler(ev, META)
    assert [e.topic for e in emits] == ["wa.handoff.v1"]  # the notifier tells the customer and the shop
    handoff = emits[0].event
    assert isinstance(handoff, HandoffRequested)
    assert handoff.payload.reason == "ai_cannot_help" and handoff.payload.requested_by == "ai"
    assert handoff.payload.message_id == ev.payload.message_id
