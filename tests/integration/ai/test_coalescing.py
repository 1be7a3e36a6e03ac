"""Burst coalescing, output guard and retries of the AI handler on the real Redis (model: a scripted provider)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from schemas.events import ReplyRequested
from tests.integration.ai.conftest import Wired
from tests.integration.ai.test_openai_sim import META
from tests.support import unique
from tests.unit.ai.fixtures import TENANT, ScriptedProvider, request, soon
from wapipe.state.pending import PendingMessages, pending_key


async def _push(redis: Any, conversation: str, message_id: str, text: str) -> None:
    """What guardrails does for each message that needs the model."""
    await PendingMessages(redis).push(conversation, message_id, text, time.time())


async def test_three_messages_in_a_burst_get_one_answer(wire: Callable[..., Wired], redis_client: Any) -> None:
    model = ScriptedProvider("openai", ['{"answer": "Sí, hay talla 40 en negro.", "handoff": false}'])
    w = wire(providers=[model])
    user = unique("u")
    burst = [request(text, user=user, not_before=soon(0.3))
             for text in ("hola", "tienen los tenis runner", "en talla 40 negro?")]
    for ev in burst:
        await _push(redis_client, ev.conversation, ev.payload.message_id, ev.payload.text)
    outputs = [await w.handler(ev, META) for ev in burst]

    assert [len(o) for o in outputs] == [1, 0, 0]
    reply = outputs[0][0].event
    assert isinstance(reply, ReplyRequested) and reply.payload.text == "Sí, hay talla 40 en negro."
    assert reply.trace.attrs["ai_messages"] == 3
    assert len(model.calls) == 1 and model.calls[0].messages[-1].content == \
        "hola\ntienen los tenis runner\nen talla 40 negro?"
    assert [(r.correlation_id, r.outcome, r.attrs["covered_by"]) for r in w.store.traces] == \
        [(ev.correlation_id, "coalesced", burst[0].payload.message_id) for ev in burst[1:]]
    assert await redis_client.llen(pending_key(burst[0].conversation)) == 0
    assert w.metric("wapipe_ai_coalesced_total", tenant=TENANT.tenant) == 2


async def test_a_message_after_the_answer_gets_its_own_answer(wire: Callable[..., Wired], redis_client: Any) -> None:
    model = ScriptedProvider("openai", ['{"answer": "Con gusto."}'])
    w = wire(providers=[model])
    user = unique("u")
    first, later = request("hola", user=user, not_before=soon(0.1)), request("gracias", user=user)
    await _push(redis_client, first.conversation, first.payload.message_id, "hola")
    assert len(await w.handler(first, META)) == 1
    await _push(redis_client, later.conversation, later.payload.message_id, "gracias")
    assert len(await w.handler(later, META)) == 1
    assert [c.messages[-1].content for c in model.calls] == ["hola", "gracias"]


async def test_a_retried_request_re_emits_the_same_reply_without_calling_the_model(
        wire: Callable[..., Wired]) -> None:
    model = ScriptedProvider("openai", ['{"answer": "Primera respuesta."}', '{"answer": "Otra distinta."}'])
    w = wire(providers=[model])
    ev = request("¿tienen sandalias?")
    first = await w.handler(ev, META)
    again = await w.handler(ev, META)
    assert [e.event for e in again] == [e.event for e in first] and len(model.calls) == 1


async def test_unsafe_model_output_is_replaced_by_the_fallback(wire: Callable[..., Wired]) -> None:
    model = ScriptedProvider("openai", ['{"answer": "Compra aquí: https://ofertas-raras.xyz/tenis"}'])
    w = wire(providers=[model])
    out = await w.handler(request("¿dónde compro los tenis con envío?"), META)
    reply = out[0].event
    assert isinstance(reply, ReplyRequested)
    assert reply.payload.text == TENANT.faqs[1].answer and "ai:fallback:guard_unknown_link" in reply.trace.decision_path
    assert reply.trace.llm_called  # the model was paid for even though its answer was refused


async def test_primary_down_secondary_answers(wire: Callable[..., Wired]) -> None:
    primary = ScriptedProvider("openai", ["error"])
    secondary = ScriptedProvider("bedrock", ['{"answer": "Abrimos a las 9."}'])
    out = await wire(providers=[primary, secondary]).handler(request("¿a qué hora abren hoy?"), META)
    reply = out[0].event
    assert isinstance(reply, ReplyRequested) and reply.payload.text == "Abrimos a las 9."
    assert reply.trace.attrs["llm_provider"] == "bedrock" and reply.trace.attrs["llm_attempts"] == \
        "openai:error,bedrock:ok"
