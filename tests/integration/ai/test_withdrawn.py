"""The AI stage on the real Redis with what guardrails leaves when the customer deletes or edits a message, and
with a Flow's answer (model: a scripted provider)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from schemas.events import FlowReply, ReplyRequested
from tests.integration.ai.conftest import Wired
from tests.integration.ai.test_openai_sim import META
from tests.support import unique
from tests.unit.ai.fixtures import TENANT, ScriptedProvider, request, soon
from wapipe.state.answers import Answers
from wapipe.state.pending import PendingMessages, pending_key


async def test_a_deleted_message_is_not_answered_and_its_tombstone_is_consumed(wire: Callable[..., Wired],
                                                                             redis_client: Any) -> None:
    model = ScriptedProvider("openai", ['{"answer": "Sí, envíos a Cali.", "handoff": false}'])
    w = wire(providers=[model])
    user = unique("u")
    gone, later = request("mi cédula es 1020304050", user=user, not_before=soon(0.1)), \
        request("¿envían a Cali?", user=user, not_before=soon(0.1))
    pending = PendingMessages(redis_client)
    await pending.push(gone.conversation, gone.payload.message_id, gone.payload.text, time.time())
    # what guardrails does on the revoke: the mark first, then the tombstone
    await Answers(redis_client).cancel(TENANT.tenant, gone.payload.message_id, "revoked")
    await pending.cancel(gone.conversation, gone.payload.message_id)
    await pending.push(later.conversation, later.payload.message_id, later.payload.text, time.time())

    assert await w.handler(gone, META) == []
    [out] = await w.handler(later, META)
    assert isinstance(out.event, ReplyRequested) and out.event.payload.covers == [later.payload.message_id]
    assert len(model.calls) == 1 and "1020304050" not in str(model.calls[0].messages)
    assert await redis_client.llen(pending_key(gone.conversation)) == 0
    assert [(t.correlation_id, t.outcome) for t in w.store.traces] == [(gone.correlation_id, "cancelled")]


async def test_a_flow_answer_reaches_the_model_as_its_fields(wire: Callable[..., Wired], redis_client: Any) -> None:
    model = ScriptedProvider("openai", ['{"answer": "Tenemos talla 40 en negro.", "handoff": false}'])
    w = wire(providers=[model])
    flow = FlowReply(name="flow", flow_token="talla:9", body="Sent", fields={"talla": "40", "color": "negro"})
    ev = request(flow.as_text(), not_before=soon(0.1))
    ev = ev.model_copy(update={"payload": ev.payload.model_copy(update={"flow": flow})})
    await PendingMessages(redis_client).push(ev.conversation, ev.payload.message_id, ev.payload.text, time.time())
    [out] = await w.handler(ev, META)
    assert isinstance(out.event, ReplyRequested) and out.event.payload.text == "Tenemos talla 40 en negro."
    assert model.calls[0].messages[-1].content == \
        "(El cliente respondió el formulario «flow».)\ntalla: 40\ncolor: negro"
