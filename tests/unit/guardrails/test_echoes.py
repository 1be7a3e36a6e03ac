"""Echoes in guardrails, over in-memory fakes of its ports: a person writing from the WhatsApp Business app is a
human turn and silences the bot; an echo of wapipe's own message changes nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry

from schemas import topics
from schemas.envelope import Trace, conversation_key, derive_id
from schemas.events import BusinessEchoReceived, BusinessEchoReceivedPayload, Recipient
from services.guardrails.echoes import ACTOR, BUSINESS_APP
from services.guardrails.handlers import GuardrailsHandler, Limits, Ports
from services.guardrails.metrics import GuardrailsMetrics
from tests.fakes.store import MemoryStore
from tests.unit.guardrails.consent_fakes import MemoryConsent
from tests.unit.guardrails.messages import OPEN_AT, TENANT, inbound, meta
from tests.unit.guardrails.test_handlers import TENANTS, AnswerFakes, Fakes
from wapipe.store import Turn
from wapipe.tenants import TenantRegistry

CUSTOMER = "573001112233"
CONV = conversation_key(TENANT, CUSTOMER)
TTL = 12 * 3600


def echo(text: str | None = "Hola, ya te separé las botas", *, wamid: str = "wamid.E1", tenant: str = TENANT,
         message_type: str = "text", at: datetime = OPEN_AT) -> BusinessEchoReceived:
    return BusinessEchoReceived(
        event_id=derive_id("echo", wamid), occurred_at=at, tenant=tenant,
        conversation=conversation_key(tenant, CUSTOMER), correlation_id=wamid, trace=Trace(received_at=at),
        payload=BusinessEchoReceivedPayload(message_id=wamid, to=Recipient(wa_id=CUSTOMER),
                                            business_number="15550783881", timestamp=at, message_type=message_type,
                                            text=text))


@dataclass
class EchoFakes(Fakes):
    """Shadow mode with the operator API's take-over, and the sender's record of sent wamids."""

    taken: list[tuple[str, str, int]] = field(default_factory=list)
    sent_wamids: set[str] = field(default_factory=set)

    async def take_over(self, conversation: str, actor: str, ttl_s: int = 0) -> None:
        self.taken.append((conversation, actor, ttl_s))
        self.shadow[conversation] = ("operator", ttl_s)

    async def is_ours(self, wamid: str) -> bool:
        return wamid in self.sent_wamids


@pytest.fixture
def fakes() -> EchoFakes:
    return EchoFakes()


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def handler(fakes: EchoFakes, store: MemoryStore, registry: CollectorRegistry) -> GuardrailsHandler:
    answers = AnswerFakes()
    ports = Ports(dedupe=fakes, window=fakes, shadow=fakes, flood=fakes, pending=fakes,
                  tenants=TenantRegistry(TENANTS), store=store, answers=answers, moves=answers,  # type: ignore[arg-type]
                  consent=MemoryConsent(), sent=fakes)
    return GuardrailsHandler(ports, GuardrailsMetrics(registry), Limits(), clock=lambda: OPEN_AT)


def echoes_total(registry: CollectorRegistry, outcome: str) -> float:
    return registry.get_sample_value("wapipe_guardrails_echoes_total", {"tenant": TENANT, "outcome": outcome}) or 0


async def test_an_echo_is_a_human_turn_and_the_bot_stays_silent_after_it(
        handler: GuardrailsHandler, fakes: EchoFakes, store: MemoryStore, registry: CollectorRegistry) -> None:
    assert await handler(echo(), meta()) == []  # the person already said it: nothing to send
    assert fakes.taken == [(CONV, ACTOR, TTL)]  # HUMAN_ACTIVE for the full TTL, named after the app
    assert [(t.role, t.text, t.message_ids) for t in store.turns] == [
        ("human", "Hola, ya te separé las botas", ("wamid.E1",))]
    assert [(h.action, h.actor) for h in store.handoff_log] == [("taken", ACTOR), ("reply", ACTOR)]
    [trace] = store.traces
    assert trace.outcome == "echo" and trace.route == "echo" and trace.attrs["operator"] == BUSINESS_APP
    assert "shadow:taken_over" in trace.decision_path
    assert echoes_total(registry, "echo") == 1
    # The customer answers the person: stored, not answered by the bot (shadow mode, as after a handoff).
    assert await handler(inbound("perfecto, paso mañana", wa_id=CUSTOMER, wamid="wamid.C1",
                                 at=OPEN_AT + timedelta(minutes=1)), meta(1)) == []
    assert store.traces[-1].outcome == "shadow"
    assert [t.role for t in store.turns] == ["human", "customer"]


async def test_a_second_echo_extends_the_take_over_and_is_audited_as_a_reply(
        handler: GuardrailsHandler, fakes: EchoFakes, store: MemoryStore) -> None:
    await handler(echo(), meta())
    await handler(echo("¿Te sirve a las 3?", wamid="wamid.E2", at=OPEN_AT + timedelta(minutes=2)), meta(1))
    assert len(fakes.taken) == 2 and all(t == (CONV, ACTOR, TTL) for t in fakes.taken)
    assert [h.action for h in store.handoff_log] == ["taken", "reply", "reply"]
    assert "shadow:extended" in store.traces[-1].decision_path


async def test_an_echo_of_a_message_wapipe_sent_does_not_silence_the_bot(
        handler: GuardrailsHandler, fakes: EchoFakes, store: MemoryStore, registry: CollectorRegistry) -> None:
    fakes.sent_wamids.add("wamid.OURS")
    assert await handler(echo("Abrimos de 9 a 7.", wamid="wamid.OURS"), meta()) == []
    assert fakes.taken == [] and fakes.shadow == {}
    assert store.turns == [] and store.handoff_log == []  # the sender stored its own turn already
    assert store.traces[0].outcome == "echo_ours" and echoes_total(registry, "echo_ours") == 1
    # and the bot still answers the customer
    out = await handler(inbound("estan abiertos?", wa_id=CUSTOMER, wamid="wamid.C2"), meta(1))
    assert [e.topic for e in out] == [topics.OUTBOUND]


async def test_a_stored_bot_turn_also_marks_an_echo_as_ours(handler: GuardrailsHandler, fakes: EchoFakes,
                                                             store: MemoryStore) -> None:
    await store.append_turn(Turn(TENANT, CUSTOMER, OPEN_AT, "assistant", "Abrimos de 9 a 7.", ("wamid.OLD",)))
    await handler(echo("Abrimos de 9 a 7.", wamid="wamid.OLD"), meta())
    assert fakes.taken == [] and store.traces[-1].outcome == "echo_ours"


async def test_a_redelivered_echo_is_dropped_and_a_retried_record_decided_again(
        handler: GuardrailsHandler, fakes: EchoFakes, store: MemoryStore) -> None:
    await handler(echo(), meta(offset=3))
    await handler(echo(), meta(offset=3, attempt=2))  # the runtime retrying the same record: same decision
    assert store.traces[-1].outcome == "echo" and len(fakes.taken) == 2
    assert len(store.turns) == 1 and [h.action for h in store.handoff_log] == ["taken", "reply"]  # idempotent rows
    await handler(echo(), meta(offset=9))  # Meta delivering it again
    assert store.traces[-1].outcome == "duplicate" and len(fakes.taken) == 2


async def test_edits_and_deletions_from_the_app_revise_the_persons_turns(handler: GuardrailsHandler,
                                                                          fakes: EchoFakes, store: MemoryStore) -> None:
    await handler(echo("te separo las botas cafés", wamid="wamid.E1"), meta())
    await handler(echo(None, wamid="wamid.IMG", message_type="image"), meta(1))
    edit = echo("te separo las botas negras", wamid="wamid.ED", message_type="edit")
    edit.payload.original_message_id = "wamid.E1"
    revoke = echo(None, wamid="wamid.DEL", message_type="revoke")
    revoke.payload.original_message_id = "wamid.IMG"
    await handler(edit, meta(2))
    await handler(revoke, meta(3))
    turns = await store.last_turns(TENANT, CUSTOMER, 10)
    assert [(t.role, t.text, t.edited, t.deleted) for t in turns] == [
        ("human", "te separo las botas negras", True, False), ("human", "", False, True)]
    assert len(fakes.taken) == 4  # a person is still at the app
    assert "turn:revised:human:edit" in store.traces[2].decision_path


async def test_an_echo_for_an_unknown_tenant_changes_nothing(handler: GuardrailsHandler, fakes: EchoFakes,
                                                              store: MemoryStore) -> None:
    await handler(echo(tenant="999999"), meta())
    assert fakes.taken == [] and store.turns == [] and store.traces[0].outcome == "unknown_tenant"
