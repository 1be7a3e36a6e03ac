"""Guardrails on what changes after the customer wrote (identity, edits, revokes) and on WhatsApp Flow answers,
over in-memory fakes of its ports."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from schemas import topics
from schemas.events import AnswerRequested, FlowReply, HandoffRequested, IdentityMove, ReplyRequested, SystemChange
from services.guardrails.handlers import GuardrailsHandler, Limits, Ports
from services.guardrails.metrics import GuardrailsMetrics
from tests.fakes.store import MemoryStore
from tests.unit.guardrails.consent_fakes import MemoryConsent
from tests.unit.guardrails.messages import OPEN_AT, TENANT, inbound, meta
from tests.unit.guardrails.test_handlers import TENANTS, AnswerFakes, Fakes
from wapipe.tenants import FlowRule, Tenant, TenantRegistry

CONV = f"{TENANT}:573001112233"


@pytest.fixture
def fakes() -> Fakes:
    return Fakes()


@pytest.fixture
def answers() -> AnswerFakes:
    return AnswerFakes()


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def registry() -> TenantRegistry:
    return TenantRegistry(TENANTS)


@pytest.fixture
def handler(fakes: Fakes, answers: AnswerFakes, store: MemoryStore, registry: TenantRegistry) -> GuardrailsHandler:
    ports = Ports(dedupe=fakes, window=fakes, shadow=fakes, flood=fakes, pending=fakes, tenants=registry,
                  store=store, answers=answers, moves=answers, consent=MemoryConsent())  # type: ignore[arg-type]
    return GuardrailsHandler(ports, GuardrailsMetrics(CollectorRegistry()), Limits(), clock=lambda: OPEN_AT)


async def test_a_system_message_moves_the_state_and_is_never_answered(handler: GuardrailsHandler, fakes: Fakes,
                                                                     answers: AnswerFakes, store: MemoryStore) -> None:
    change = SystemChange(type="user_changed_number", body="User A changed from 573001112233 to 573009998877")
    event = inbound(change.body, wamid="wamid.SYS", message_type="system", system=change,
                    identity_move=IdentityMove(from_conversation=f"{TENANT}:CO.OLD", reason="user_changed_number"))
    assert await handler(event, meta()) == []
    assert answers.moved == [(f"{TENANT}:CO.OLD", CONV)]
    [trace] = store.traces
    assert (trace.outcome, trace.route) == ("system", "system")
    assert "identity:moved:user_changed_number" in trace.decision_path
    assert "system:user_changed_number" in trace.decision_path
    assert fakes.touched == [] and fakes.admitted == []  # not the customer writing: no window, no flood count


async def test_a_merge_moves_the_state_then_the_message_is_answered(handler: GuardrailsHandler,
                                                                   answers: AnswerFakes) -> None:
    event = inbound("hola", identity_move=IdentityMove(from_conversation=f"{TENANT}:573001112233x", reason="merge"))
    out = await handler(event, meta())
    assert answers.moved == [(f"{TENANT}:573001112233x", CONV)]
    assert [e.topic for e in out] == [topics.OUTBOUND]
    assert "identity:moved:merge" in out[0].event.trace.decision_path


async def test_a_revoke_cancels_the_answer_and_its_edits_and_is_never_answered(
        handler: GuardrailsHandler, fakes: Fakes, answers: AnswerFakes, store: MemoryStore) -> None:
    await handler(inbound("tienen botas de cuero en talla 40?", wamid="wamid.Q"), meta(0))
    answers.edits["wamid.Q"] = ["wamid.Q-edit"]
    assert fakes.pending == [("wamid.Q", "tienen botas de cuero en talla 40?")]
    out = await handler(inbound(None, wamid="wamid.DEL", message_type="revoke", original_message_id="wamid.Q"),
                        meta(1))
    assert out == []
    assert answers.state == {"wamid.Q": "cancelled:revoked", "wamid.Q-edit": "cancelled:revoked"}
    assert fakes.pending == []  # off the AI stage's burst list
    assert store.revisions == [(TENANT, "573001112233", "wamid.Q", None)]  # the store marks it deleted
    assert (store.traces[-1].outcome, store.traces[-1].route) == ("revoked", "revoke")


async def test_a_revoke_of_an_answered_message_still_marks_it_deleted(handler: GuardrailsHandler,
                                                                      answers: AnswerFakes,
                                                                      store: MemoryStore) -> None:
    answers.state["wamid.Q"] = "answered"
    assert await handler(inbound(None, wamid="wamid.DEL", message_type="revoke", original_message_id="wamid.Q"),
                         meta()) == []
    assert "revoke:answered" in store.traces[-1].decision_path and store.revisions[0][3] is None


async def test_an_edit_of_an_unanswered_message_is_answered_once_with_the_new_text(
        handler: GuardrailsHandler, answers: AnswerFakes, store: MemoryStore) -> None:
    first = await handler(inbound("a que hora abren", wamid="wamid.Q"), meta(0))
    assert first[0].event.payload.covers == ["wamid.Q"]  # the sender cancels it if asked before it goes out
    out = await handler(inbound("aceptan nequi?", wamid="wamid.E", message_type="edit",
                                original_message_id="wamid.Q"), meta(1))
    assert answers.state == {"wamid.Q": "cancelled:edited"} and answers.edits == {"wamid.Q": ["wamid.E"]}
    [reply] = out
    assert isinstance(reply.event, ReplyRequested) and "Nequi" in (reply.event.payload.text or "")
    assert reply.event.payload.covers == ["wamid.E"] and reply.event.correlation_id == "wamid.E"
    assert store.revisions == [(TENANT, "573001112233", "wamid.Q", "aceptan nequi?")]


async def test_an_edit_of_an_answered_message_is_recorded_not_answered(handler: GuardrailsHandler,
                                                                       answers: AnswerFakes,
                                                                       store: MemoryStore) -> None:
    answers.state["wamid.Q"] = "answered"
    out = await handler(inbound("aceptan nequi?", wamid="wamid.E", message_type="edit",
                                original_message_id="wamid.Q"), meta())
    assert out == []
    assert store.revisions == [(TENANT, "573001112233", "wamid.Q", "aceptan nequi?")]
    assert (store.traces[-1].outcome, store.traces[-1].route) == ("edit_recorded", "edit_recorded")


async def test_a_reaction_is_recorded_not_answered(handler: GuardrailsHandler, store: MemoryStore) -> None:
    assert await handler(inbound(None, wamid="wamid.R", message_type="reaction"), meta()) == []
    assert (store.traces[-1].outcome, store.traces[-1].route) == ("ignored", "ignore")


FLOW = FlowReply(name="flow", flow_token="talla:pedido-88", body="Sent", fields={"talla": "40", "color": "negro"})


async def test_a_flow_answer_goes_to_the_model_as_structured_fields(handler: GuardrailsHandler, fakes: Fakes) -> None:
    # "talla" reads like a business question: a Flow answer never reaches the text classifier
    out = await handler(inbound(FLOW.as_text(), message_type="interactive", reply_id="flow", flow=FLOW), meta())
    [req] = out
    assert isinstance(req.event, AnswerRequested) and req.event.payload.flow == FLOW
    assert req.event.trace.attrs["rule"] == "flow:talla"  # the demo shop's `talla` flow: to the model
    assert fakes.pending == [("wamid.A1", "talla: 40\ncolor: negro")]


async def test_the_tenant_decides_what_a_flow_answer_does(fakes: Fakes, answers: AnswerFakes, store: MemoryStore,
                                                          registry: TenantRegistry) -> None:
    tenant = registry.get(TENANT)
    assert tenant is not None
    flows = {"talla": FlowRule(action="acknowledge", wording="¡Gracias! Ya buscamos tu talla."),
             "pedido-88": FlowRule(action="handoff")}
    shop = tenant.model_copy(update={"flows": flows})

    class OneTenant:
        def get(self, phone_number_id: str) -> Tenant | None:
            return shop if phone_number_id == TENANT else None

    ports = Ports(dedupe=fakes, window=fakes, shadow=fakes, flood=fakes, pending=fakes, tenants=OneTenant(),
                  store=store, answers=answers, moves=answers, consent=MemoryConsent())  # type: ignore[arg-type]
    handler = GuardrailsHandler(ports, GuardrailsMetrics(CollectorRegistry()), Limits(), clock=lambda: OPEN_AT)
    acked = await handler(inbound("x", message_type="interactive", flow=FLOW), meta(0))
    assert acked[0].event.payload.text == "¡Gracias! Ya buscamos tu talla." and acked[0].event.trace.route == "reply"
    by_token = FLOW.model_copy(update={"flow_token": "pedido-88"})
    handed = await handler(inbound("x", wamid="wamid.B2", message_type="interactive", flow=by_token), meta(1))
    assert isinstance(handed[0].event, HandoffRequested) and handed[0].event.payload.reason == "flow:pedido-88"


async def test_an_unanswered_edit_for_the_model_names_the_message_it_replaces(handler: GuardrailsHandler,
                                                                             store: MemoryStore) -> None:
    await handler(inbound("tienen botas de cuero en talla 40?", wamid="wamid.Q"), meta(0))
    out = await handler(inbound("tienen botas de cuero en talla 41?", wamid="wamid.E", message_type="edit",
                                original_message_id="wamid.Q"), meta(1))
    [req] = [e.event for e in out]
    assert isinstance(req, AnswerRequested) and req.payload.replaces == "wamid.Q"
    [turn] = store.turns  # the edit revised the original's turn instead of adding one
    assert turn.message_ids == ("wamid.Q",)
    [revised] = await store.last_turns(TENANT, "573001112233")
    assert revised.edited and revised.text == "tienen botas de cuero en talla 41?"
