"""Opt-out / opt-in: the keyword matcher, and the handler's decision over fakes of its ports."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from schemas import topics
from schemas.envelope import Trace, conversation_key, derive_id
from schemas.events import ConsentChanged, ConsentChangedPayload, Recipient, ReplyRequested
from services.guardrails.consent import match_consent
from services.guardrails.handlers import GuardrailsHandler, Limits, Ports
from services.guardrails.metrics import GuardrailsMetrics
from tests.fakes.store import MemoryStore
from tests.unit.guardrails.consent_fakes import MemoryConsent
from tests.unit.guardrails.messages import OPEN_AT, TENANT, inbound, meta
from tests.unit.guardrails.test_handlers import AnswerFakes, Fakes
from wapipe.tenants import TenantRegistry
from wapipe.tenants.models import ConsentSettings

TENANTS = Path(__file__).parents[3] / "config" / "tenants"
BUILTIN = ConsentSettings()


@pytest.mark.parametrize("text", [
    "STOP", "stop", "Stop.", "STOP!!!", "🛑 STOP", "stop por favor", "BAJA", "Bája", "baja gracias",
    "darme de baja", "Quiero darme de baja", "no me escriban más, quiero darme de baja", "NO ME ESCRIBAN MAS",
    "no quiero recibir mensajes", "No quiero recibir más mensajes", "Unsubscribe", "please stop messaging me",
    "don't message me", "dejen de escribirme x favor", "darme d baja", "No. No me escriban más",
])
def test_opt_out_keywords_in_spanish_and_english(text: str) -> None:
    m = match_consent(text, BUILTIN)
    assert m is not None and m.status == "opted_out"


@pytest.mark.parametrize("text", [
    "START", "start", "Alta", "alta por favor", "quiero volver a recibir mensajes", "Quiero volver a recibir",
    "darme de alta",
])
def test_opt_in_keywords(text: str) -> None:
    m = match_consent(text, BUILTIN)
    assert m is not None and m.status == "opted_in"


@pytest.mark.parametrize("text", [
    "la talla baja", "quiero tenis de caña baja", "la tienen en talla alta?", "no quiero darme de baja",
    "can you start my order", "hola", "", "¿tienen descuentos?", "stop y start",
])
def test_words_in_a_sentence_and_negated_phrases_change_nothing(text: str) -> None:
    assert match_consent(text, BUILTIN) is None


def test_an_opt_out_wins_over_an_opt_in_in_the_same_message() -> None:
    m = match_consent("no quiero volver a recibir mensajes", BUILTIN)
    assert m is not None and m.status == "opted_out"


def test_tenant_keywords_extend_or_replace_the_builtin_ones() -> None:
    own = ConsentSettings(opt_out=["No más promociones"], opt_in=["quiero promociones"])
    assert match_consent("no mas promociones por favor", own).status == "opted_out"  # type: ignore[union-attr]
    assert match_consent("ahora sí quiero promociones", own).status == "opted_in"  # type: ignore[union-attr]
    assert match_consent("STOP", own) is not None
    only_own = ConsentSettings(builtin=False, opt_out=["cancelar"])
    assert match_consent("STOP", only_own) is None
    assert match_consent("Cancelar", only_own) is not None


@pytest.fixture
def consent() -> MemoryConsent:
    return MemoryConsent()


@pytest.fixture
def fakes() -> Fakes:
    return Fakes()


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def handler(fakes: Fakes, store: MemoryStore, consent: MemoryConsent, registry: CollectorRegistry) -> GuardrailsHandler:
    answers = AnswerFakes()
    ports = Ports(dedupe=fakes, window=fakes, shadow=fakes, flood=fakes, pending=fakes,
                  tenants=TenantRegistry(TENANTS), store=store, consent=consent, answers=answers,
                  moves=answers)  # type: ignore[arg-type]
    return GuardrailsHandler(ports, GuardrailsMetrics(registry), Limits(), clock=lambda: OPEN_AT)


async def test_stop_is_recorded_and_confirmed_once(handler: GuardrailsHandler, consent: MemoryConsent,
                                                   store: MemoryStore, registry: CollectorRegistry) -> None:
    out = await handler(inbound("STOP", wamid="wamid.S1"), meta(0))

    assert [e.topic for e in out] == [topics.OUTBOUND]
    reply = out[0].event
    assert isinstance(reply, ReplyRequested)
    assert reply.payload.text is not None and reply.payload.text.startswith("Listo, no te enviaremos más mensajes")
    assert reply.payload.in_reply_to == "wamid.S1" and reply.payload.route == "consent"
    assert reply.trace.route == "consent" and "consent:opted_out:stop" in reply.trace.decision_path
    [change] = consent.changes
    assert (change.status, change.source, change.actor, change.detail, change.message_id) == (
        "opted_out", "keyword", "customer", "stop", "wamid.S1")
    assert registry.get_sample_value("wapipe_guardrails_consent_changes_total",
                                     {"tenant": TENANT, "status": "opted_out", "source": "keyword"}) == 1

    again = await handler(inbound("no me escriban más", wamid="wamid.S2", at=OPEN_AT + timedelta(minutes=1)),
                          meta(1))
    assert again == []  # confirmed once: no second confirmation, no "te ayudamos con gusto"
    assert len(consent.changes) == 1
    assert store.traces[-1].outcome == "consent_unchanged"


async def test_a_retried_stop_asks_for_the_same_confirmation(handler: GuardrailsHandler,
                                                             consent: MemoryConsent) -> None:
    first = await handler(inbound("baja", wamid="wamid.R1"), meta(4))
    retry = await handler(inbound("baja", wamid="wamid.R1"), meta(4, attempt=2))  # crashed before producing
    assert [e.event.payload.reply_id for e in first] == [e.event.payload.reply_id for e in retry]
    assert first[0].event.payload.reply_id == derive_id("wamid.R1", "guardrails", 0)
    assert len(consent.changes) == 1


async def test_start_opts_back_in_and_is_confirmed(handler: GuardrailsHandler, consent: MemoryConsent) -> None:
    await handler(inbound("STOP", wamid="wamid.S1"), meta(0))
    out = await handler(inbound("START", wamid="wamid.S3", at=OPEN_AT + timedelta(hours=1)), meta(1))
    assert "Volverás a recibir" in (out[0].event.payload.text or "")
    assert [c.status for c in consent.changes] == ["opted_out", "opted_in"]


async def test_a_message_after_the_opt_out_is_answered_as_usual(handler: GuardrailsHandler) -> None:
    await handler(inbound("STOP", wamid="wamid.S1"), meta(0))
    out = await handler(inbound("a que hora abren?", wamid="wamid.Q1"), meta(1))
    assert out[0].event.payload.route == "reply" and out[0].event.trace.intent == "horarios"


async def test_alta_from_a_customer_who_never_left_is_an_ordinary_message(handler: GuardrailsHandler,
                                                                          consent: MemoryConsent) -> None:
    out = await handler(inbound("alta", wamid="wamid.A1"), meta(0))
    assert consent.changes == []
    assert out and out[0].event.trace.route != "consent"


async def test_stop_is_honoured_while_a_person_has_the_conversation(handler: GuardrailsHandler, fakes: Fakes,
                                                                     consent: MemoryConsent) -> None:
    fakes.shadow[conversation_key(TENANT, "573001112233")] = ("humano", 60)
    out = await handler(inbound("darme de baja"), meta(0))
    assert out[0].event.payload.route == "consent"
    assert consent.changes[0].status == "opted_out"


async def test_the_direct_channel_has_no_consent(handler: GuardrailsHandler, consent: MemoryConsent) -> None:
    out = await handler(inbound("stop", channel="api", wa_id="web-1"), meta(0))
    assert consent.changes == [] and out and out[0].event.trace.route != "consent"


async def test_meta_user_preferences_is_recorded_and_not_answered(handler: GuardrailsHandler,
                                                                  consent: MemoryConsent) -> None:
    user = Recipient(wa_id="573001112233")
    event = ConsentChanged(
        event_id=derive_id("consent", "x"), tenant=TENANT, conversation=conversation_key(TENANT, user.user),
        correlation_id="upref.1", trace=Trace(received_at=OPEN_AT),
        payload=ConsentChangedPayload(user=user, status="opted_out", category="marketing_messages",
                                      timestamp=OPEN_AT))
    assert await handler(event, meta(0)) == []
    assert await handler(event, meta(0, attempt=2)) == []
    [change] = consent.changes
    assert (change.status, change.source, change.detail) == ("opted_out", "user_preferences", "marketing_messages")
    # a STOP afterwards is not confirmed again: the customer is opted out already
    assert await handler(inbound("STOP", wamid="wamid.S9", at=OPEN_AT + timedelta(minutes=5)), meta(1)) == []
