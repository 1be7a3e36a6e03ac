"""The guardrails handler with in-memory fakes of its ports: what each route emits, and where journeys end."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from schemas import topics
from schemas.envelope import derive_id
from schemas.events import AnswerRequested, HandoffRequested, MessageContext, Order, OrderItem, ReplyRequested
from services.guardrails.handlers import GuardrailsHandler, Limits, Ports
from services.guardrails.metrics import GuardrailsMetrics
from tests.fakes.store import MemoryStore
from tests.unit.guardrails.consent_fakes import MemoryConsent
from tests.unit.guardrails.messages import OPEN_AT, inbound, meta
from wapipe.runtime.types import PermanentError
from wapipe.tenants import TenantRegistry

TENANTS = Path(__file__).parents[3] / "config" / "tenants"


@dataclass
class Fakes:
    claimed: dict[str, str] = field(default_factory=dict)
    touched: list[tuple[str, datetime]] = field(default_factory=list)
    shadow: dict[str, tuple[str, int]] = field(default_factory=dict)
    admitted: list[str] = field(default_factory=list)
    limit: int = 20
    noticed: bool = False
    pending: list[tuple[str, str]] = field(default_factory=list)

    async def claim(self, tenant: str, message_id: str, owner: str) -> bool:
        return self.claimed.setdefault(message_id, owner) == owner

    async def touch(self, conversation: str, at: datetime) -> None:
        self.touched.append((conversation, at))

    async def is_active(self, conversation: str) -> bool:
        return conversation in self.shadow

    async def activate(self, conversation: str, reason: str, actor: str, ttl_s: int = 0) -> bool:
        return self.shadow.setdefault(conversation, (reason, ttl_s)) == (reason, ttl_s)

    async def admit(self, conversation: str, message_id: str, now: float) -> bool:
        if message_id in self.admitted:
            return True
        if len(self.admitted) >= self.limit:
            return False
        self.admitted.append(message_id)
        return True

    async def notice_once(self, conversation: str, message_id: str) -> bool:
        first, self.noticed = not self.noticed, True
        return first

    async def push(self, conversation: str, message_id: str, text: str, ts: float) -> None:
        self.pending.append((message_id, text))

    async def cancel(self, conversation: str, message_id: str) -> int:
        before = len(self.pending)
        self.pending = [p for p in self.pending if p[0] != message_id]
        return before - len(self.pending)


@dataclass
class AnswerFakes:
    """`wapipe.state.answers` and `wapipe.state.moves` in memory."""

    state: dict[str, str] = field(default_factory=dict)
    edits: dict[str, list[str]] = field(default_factory=dict)
    moved: list[tuple[str, str]] = field(default_factory=list)

    async def cancel(self, tenant: str, message_id: str, reason: str) -> str:
        if self.state.get(message_id) == "answered":
            return "answered"
        self.state.setdefault(message_id, f"cancelled:{reason}")
        return "cancelled"

    async def record_edit(self, tenant: str, original: str, edit: str) -> None:
        self.edits.setdefault(original, []).append(edit)

    async def edits_of(self, tenant: str, original: str) -> list[str]:
        return self.edits.get(original, [])

    async def move(self, source: str, target: str) -> int:
        self.moved.append((source, target))
        return 3


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
def handler(fakes: Fakes, store: MemoryStore, answers: AnswerFakes) -> GuardrailsHandler:
    ports = Ports(dedupe=fakes, window=fakes, shadow=fakes, flood=fakes, pending=fakes,
                  tenants=TenantRegistry(TENANTS), store=store, answers=answers, moves=answers,  # type: ignore[arg-type]
                  consent=MemoryConsent())
    return GuardrailsHandler(ports, GuardrailsMetrics(CollectorRegistry()), Limits(), clock=lambda: OPEN_AT)


async def test_faq_is_answered_from_tenant_knowledge(handler: GuardrailsHandler, fakes: Fakes) -> None:
    out = await handler(inbound("cuanto vale el envio pa Medellin?"), meta())
    assert [e.topic for e in out] == [topics.OUTBOUND]
    reply = out[0].event
    assert isinstance(reply, ReplyRequested)
    assert "Servientrega" in (reply.payload.text or "") and "$15.000" in (reply.payload.text or "")
    assert reply.payload.reply_id == derive_id("wamid.A1", "guardrails", 0)
    assert reply.trace.route == "reply" and reply.trace.intent == "envios"
    assert "dedupe:new" in reply.trace.decision_path and any(s.stage == "guardrails" for s in reply.trace.stages)
    assert fakes.touched  # the 24 h window clock was recorded


async def test_hours_answer_says_open_now(handler: GuardrailsHandler) -> None:
    out = await handler(inbound("estan abiertos?"), meta())
    assert "abiertos" in (out[0].event.payload.text or "")


async def test_business_question_goes_to_the_model_with_coalescing(handler: GuardrailsHandler,
                                                                     fakes: Fakes) -> None:
    out = await handler(inbound("tienen tenis nike talla 42?"), meta())
    assert [e.topic for e in out] == [topics.AI_REQUESTS]
    req = out[0].event
    assert isinstance(req, AnswerRequested)
    assert req.payload.not_before is not None and (req.payload.not_before - OPEN_AT).total_seconds() == 1.5
    assert fakes.pending == [("wamid.A1", "tienen tenis nike talla 42?")]


async def test_handoff_silences_the_bot_before_emitting(handler: GuardrailsHandler, fakes: Fakes,
                                                        store: MemoryStore) -> None:
    out = await handler(inbound("quiero hablar con un asesor"), meta())
    assert [e.topic for e in out] == [topics.HANDOFF]  # the notifier tells the customer and the people
    assert isinstance(out[0].event, HandoffRequested) and out[0].event.payload.reason == "humano"
    assert list(fakes.shadow.values()) == [("humano", 12 * 3600)]
    assert await handler(inbound("hola?", wamid="wamid.A2"), meta(1)) == []  # the bot stays silent
    # every message is a customer turn, the one that asked for a person and the one the bot kept silent on
    assert [t.text for t in store.turns] == ["quiero hablar con un asesor", "hola?"]
    assert store.traces[0].outcome == "shadow"


async def test_off_topic_is_refused_and_gibberish_clarified(handler: GuardrailsHandler) -> None:
    refused = await handler(inbound("cuentame un chiste"), meta())
    assert refused[0].event.payload.route == "refuse"
    unclear = await handler(inbound("asdfgh", wamid="wamid.B"), meta(1))
    assert unclear[0].event.payload.route == "clarify"


async def test_duplicate_is_dropped_and_its_trace_persisted(handler: GuardrailsHandler, store: MemoryStore) -> None:
    assert await handler(inbound("hola"), meta(offset=0))
    assert await handler(inbound("hola"), meta(offset=0, attempt=2))  # the runtime retrying the same record
    assert await handler(inbound("hola"), meta(offset=7)) == []  # Meta redelivered it
    assert [t.outcome for t in store.traces] == ["duplicate"]


async def test_a_retried_record_starts_from_the_original_trace(handler: GuardrailsHandler) -> None:
    event = inbound("hola")
    first = await handler(event, meta(offset=0))
    again = await handler(event, meta(offset=0, attempt=2))  # the runtime retries the object it decoded once
    assert event.trace.decision_path == []
    assert again[0].event.trace.decision_path == first[0].event.trace.decision_path
    assert again[0].event.payload.text == first[0].event.payload.text


async def test_unknown_tenant_is_counted_not_answered(handler: GuardrailsHandler, store: MemoryStore) -> None:
    assert await handler(inbound("hola", tenant="999999"), meta()) == []
    assert store.traces[0].outcome == "unknown_tenant"


async def test_flood_excess_is_dropped_with_one_notice(handler: GuardrailsHandler, fakes: Fakes,
                                                       store: MemoryStore) -> None:
    fakes.limit = 2
    outs = [await handler(inbound("hola", wamid=f"wamid.F{i}"), meta(i)) for i in range(5)]
    assert [len(o) for o in outs] == [1, 1, 1, 0, 0]
    assert outs[2][0].event.payload.route == "flood_notice"
    assert [t.outcome for t in store.traces] == ["flood"] * 3


async def test_non_text_follows_tenant_rules(handler: GuardrailsHandler, store: MemoryStore) -> None:
    audio = await handler(inbound(None, message_type="audio"), meta())
    assert "audios" in (audio[0].event.payload.text or "")
    assert await handler(inbound(None, wamid="wamid.R", message_type="reaction"), meta(1)) == []
    assert store.traces[-1].outcome == "ignored"
    button = await handler(inbound("Horarios", wamid="wamid.I", message_type="interactive",
                                   reply_id="menu_horarios"), meta(2))
    assert button[0].event.trace.intent == "horarios"


async def test_a_tap_on_a_product_list_reaches_the_model_with_its_id(handler: GuardrailsHandler) -> None:
    out = await handler(inbound("Chaqueta impermeable liviana", wamid="wamid.L", message_type="interactive",
                                reply_id="product:CHIMPK"), meta())
    asked = [e.event for e in out if isinstance(e.event, AnswerRequested)]
    assert len(asked) == 1 and asked[0].payload.reply_id == "product:CHIMPK"
    assert asked[0].payload.text == "Chaqueta impermeable liviana" and asked[0].payload.message_type == "interactive"
    typed = await handler(inbound("¿tienen chaquetas impermeables?", wamid="wamid.T"), meta(1))
    assert all(e.event.payload.reply_id is None for e in typed if isinstance(e.event, AnswerRequested))


async def test_an_order_and_a_question_about_a_product_message_reach_the_model(handler: GuardrailsHandler) -> None:
    order = Order(catalog_id="CAT1", items=[OrderItem(product_retailer_id="P0-M", quantity=2)])
    out = await handler(inbound(None, wamid="wamid.O", message_type="order", order=order), meta())
    asked = [e.event for e in out if isinstance(e.event, AnswerRequested)]
    assert len(asked) == 1 and asked[0].payload.order == order and asked[0].trace.decision_path
    ctx = MessageContext(message_id="wamid.P", referred_product={"catalog_id": "CAT1", "product_retailer_id": "P0-M"})
    out = await handler(inbound("quiero este", wamid="wamid.Q", context=ctx), meta(1))
    asked = [e.event for e in out if isinstance(e.event, AnswerRequested)]
    assert len(asked) == 1 and asked[0].payload.referred_product == "P0-M"


async def test_api_channel_reply_stays_on_the_api_channel(handler: GuardrailsHandler) -> None:
    out = await handler(inbound("hola", channel="api"), meta())
    assert out[0].event.payload.channel == "api"
    assert out[0].event.payload.to.user == "api:573001112233"
    assert out[0].event.conversation == "100000000000001:api:573001112233"


async def test_other_event_types_are_permanent_errors(handler: GuardrailsHandler) -> None:
    reply = (await handler(inbound("hola"), meta()))[0].event
    with pytest.raises(PermanentError):
        await handler(reply, meta(1))


async def test_every_metric_labels_tenant_with_the_phone_number_id(fakes: Fakes, store: MemoryStore) -> None:
    registry = CollectorRegistry()
    answers = AnswerFakes()
    ports = Ports(dedupe=fakes, window=fakes, shadow=fakes, flood=fakes, pending=fakes,
                  tenants=TenantRegistry(TENANTS), store=store, answers=answers, moves=answers,  # type: ignore[arg-type]
                  consent=MemoryConsent())
    handler = GuardrailsHandler(ports, GuardrailsMetrics(registry), Limits(), clock=lambda: OPEN_AT)
    fakes.limit = 2
    await handler(inbound("hola"), meta(0))
    await handler(inbound("hola"), meta(7))  # duplicate
    await handler(inbound("quiero hablar con un asesor", wa_id="573009990000", wamid="wamid.H"), meta(1))
    await handler(inbound("hola?", wa_id="573009990000", wamid="wamid.H2"), meta(2))  # shadow
    await handler(inbound("estan abiertos?", wamid="wamid.A2"), meta(3))  # flood, with the notice
    labelled = [(s.name, s.labels["tenant"]) for m in registry.collect() for s in m.samples if "tenant" in s.labels]
    assert {"wapipe_guardrails_messages_total", "wapipe_guardrails_dedupe_hits_total",
            "wapipe_guardrails_flood_dropped_total", "wapipe_guardrails_flood_notices_total",
            "wapipe_guardrails_shadow_suppressed_total", "wapipe_guardrails_decision_duration_seconds_count"} \
        <= {name for name, _ in labelled}
    assert {tenant for _, tenant in labelled} == {"100000000000001"}


async def test_an_answered_message_is_kept_as_a_customer_turn_once(handler: GuardrailsHandler,
                                                                  store: MemoryStore) -> None:
    """The model's context and the operator's view need the customer's side, not only the business's answers."""
    await handler(inbound("¿a qué hora abren?"), meta())
    await handler(inbound("¿a qué hora abren?"), meta(1))  # Meta's redelivery of the same message
    assert [(t.role, t.text, t.message_ids) for t in store.turns] == [("customer", "¿a qué hora abren?", ("wamid.A1",))]
