"""The notifier's decisions with fakes of its own ports: what the internal numbers and the customer receive."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry

from schemas.events import ReplyRequested
from services.notifier.handlers import Notifier
from services.notifier.metrics import NotifierMetrics
from services.notifier.texts import ref_of
from tests.fakes.store import MemoryStore
from tests.unit.notifier.events import CUSTOMER, INTERNAL, conv, handoff, message, reply_failed, status_failed
from tests.unit.notifier.fakes import FakeState, FakeTenants, demo_tenant
from wapipe.runtime.types import Emit, PermanentError, RecordMeta
from wapipe.store.port import Turn

META = RecordMeta(topic="t", partition=0, offset=0, key=None, timestamp_ms=None)
SECOND = "573000000088"


def _notifier(tenant=None, turns=None):  # type: ignore[no-untyped-def]
    tenant = tenant or demo_tenant(internal_numbers=[INTERNAL, SECOND])
    return Notifier(state=FakeState(), store=MemoryStore(turns or ()), tenants=FakeTenants(tenant),
                    metrics=NotifierMetrics(CollectorRegistry()))


def _replies(emits: list[Emit] | tuple[Emit, ...]) -> list[ReplyRequested]:
    out = [e.event for e in emits]
    assert all(isinstance(e, ReplyRequested) and em.topic == "wa.outbound.v1" for e, em in zip(out, emits, strict=True))
    return out  # type: ignore[return-value]


async def test_handoff_notifies_each_internal_number_once_and_tells_the_customer() -> None:
    t0 = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    turns = [Turn("100000000000001", CUSTOMER, t0, "customer", "hola, tienen tenis blancos talla 38?"),
             Turn("100000000000001", CUSTOMER, t0 + timedelta(seconds=2), "assistant", "¡Hola! Sí, tenemos.")]
    n = _notifier(turns=turns)
    replies = _replies(await n.handle(handoff(), META))

    internal = [r for r in replies if r.payload.audience == "internal"]
    customer = [r for r in replies if r.payload.audience == "customer"]
    assert sorted(r.payload.to.user for r in internal) == sorted([INTERNAL, SECOND])
    text = internal[0].payload.text or ""
    assert "humano" in text and "…4567" in text and CUSTOMER not in text  # reason, masked customer number
    assert "tenis blancos talla 38" in text and "Bot: ¡Hola! Sí, tenemos." in text  # the last messages
    assert f"/handoffs/{ref_of(conv())}/release" in text  # how to release
    assert len(customer) == 1 and customer[0].payload.to.user == CUSTOMER
    assert customer[0].payload.text == demo_tenant().wording.handoff
    assert customer[0].payload.in_reply_to == "wamid.H1"
    assert {e.action for e in n.store.handoff_log} == {"requested", "notified"}  # type: ignore[attr-defined]
    assert await n.state.active_since(conv()) is not None

    # A redelivery of the same handoff asks for exactly the same sends (the sender sends each reply id once).
    again = _replies(await n.handle(handoff(), META))
    assert [r.payload.reply_id for r in again] == [r.payload.reply_id for r in replies]
    assert [r.event_id for r in again] == [r.event_id for r in replies]


async def test_a_second_handoff_while_active_notifies_nobody() -> None:
    n = _notifier()
    assert await n.handle(handoff("wamid.H1"), META)
    assert await n.handle(handoff("wamid.H2", reason="queja"), META) == []


async def test_an_ai_handoff_does_not_repeat_the_handoff_wording_to_the_customer() -> None:
    n = _notifier()
    replies = _replies(await n.handle(handoff(requested_by="ai", reason="ai_cannot_help"), META))
    assert replies and all(r.payload.audience == "internal" for r in replies)


async def test_unknown_tenant_goes_to_the_dlq() -> None:
    n = _notifier()
    event = handoff().model_copy(update={"tenant": "999999999999"})
    with pytest.raises(PermanentError):
        await n.handle(event, META)


async def test_messages_after_the_handoff_are_relayed_only_while_human_active() -> None:
    n = _notifier()
    before = message("wamid.M0", "quiero un asesor", at=datetime.now(UTC) - timedelta(seconds=1))
    assert await n.handle(before, META) == []  # not active yet
    await n.handle(handoff(), META)
    assert await n.handle(before, META) == []  # the message that asked for a person is in the notification
    replies = _replies(await n.handle(message("wamid.M1", "¿me ayudan con la talla?",
                                              at=datetime.now(UTC) + timedelta(seconds=1)), META))
    assert sorted(r.payload.to.user for r in replies) == sorted([INTERNAL, SECOND])
    assert all(r.payload.audience == "internal" for r in replies)
    relayed = replies[0].payload.text or ""
    assert "¿me ayudan con la talla?" in relayed and CUSTOMER not in relayed
    photo = _replies(await n.handle(message("wamid.M2", None, message_type="image",
                                            at=datetime.now(UTC) + timedelta(seconds=2)), META))
    assert "[imagen]" in (photo[0].payload.text or "")
    deleted = _replies(await n.handle(message("wamid.M3", None, message_type="revoke",
                                              at=datetime.now(UTC) + timedelta(seconds=3)), META))
    assert "[borró un mensaje]" in (deleted[0].payload.text or "")
    # WhatsApp reporting a number change is not the customer writing (and names both numbers): never relayed
    system = message("wamid.M4", f"User A changed from {CUSTOMER} to 573009999999", message_type="system",
                     at=datetime.now(UTC) + timedelta(seconds=4))
    assert await n.handle(system, META) == []


async def test_relays_are_limited_per_conversation() -> None:
    """A customer flooding "asesor" while a person has the conversation reaches the shop's phones a bounded number
    of times per window, plus one notice that more messages are waiting."""
    registry = CollectorRegistry()
    n = Notifier(state=FakeState(), store=MemoryStore(), tenants=FakeTenants(demo_tenant(internal_numbers=[INTERNAL,
                 SECOND])), metrics=NotifierMetrics(registry), relay_limit=3, relay_window_s=600)
    await n.handle(handoff(), META)
    await n.handle(handoff("wamid.H9", customer="573001230000"), META)
    t0 = datetime.now(UTC) + timedelta(seconds=1)
    flood = [message(f"wamid.F{i}", "asesor", at=t0 + timedelta(seconds=i)) for i in range(8)]
    outs = [_replies(await n.handle(m, META)) for m in flood]
    texts = [[r.payload.text or "" for r in out] for out in outs]
    assert all(len(t) == 2 and "asesor" in t[0] for t in texts[:3])  # relayed to both internal numbers
    assert len(texts[3]) == 2 and "no se reenvían" in texts[3][0] and CUSTOMER not in texts[3][0]
    assert texts[4:] == [[]] * 4  # nothing more in this window
    assert registry.get_sample_value("wapipe_relays_suppressed_total", {"tenant": "100000000000001"}) == 5
    # a redelivery of a relayed message asks for the same sends again (the sender sends each once)
    assert [r.payload.reply_id for r in _replies(await n.handle(flood[0], META))] == \
        [r.payload.reply_id for r in outs[0]]
    # another conversation has its own window, and after the window the customer is relayed again
    other = message("wamid.O1", "hola", customer="573001230000", at=t0 + timedelta(seconds=9))
    assert len(_replies(await n.handle(other, META))) == 2
    later = message("wamid.F99", "sigo aquí", at=t0 + timedelta(seconds=601))
    assert "sigo aquí" in (_replies(await n.handle(later, META))[0].payload.text or "")


async def test_no_relay_when_the_tenant_does_not_want_it() -> None:
    n = _notifier(demo_tenant(relay_to_internal=False))
    await n.handle(handoff(), META)
    assert await n.handle(message("wamid.M1", at=datetime.now(UTC) + timedelta(seconds=1)), META) == []


async def test_permanent_delivery_failures_alert_once_per_code_in_the_window() -> None:
    n = _notifier()
    first = _replies(await n.handle(reply_failed("r1", 131026), META))
    assert len(first) == 2 and "131026" in (first[0].payload.text or "") and "…4567" in (first[0].payload.text or "")
    assert await n.handle(reply_failed("r2", 131026), META) == []  # same tenant and code: rate-limited
    again = _replies(await n.handle(reply_failed("r1", 131026), META))  # a redelivery is not "another" failure
    assert [r.payload.reply_id for r in again] == [r.payload.reply_id for r in first]
    assert len(await n.handle(status_failed(code=131049), META)) == 2  # another code alerts
    assert await n.handle(reply_failed("r3", 131000, audience="internal"), META) == []  # no alert about alerts
    assert await n.handle(status_failed("wamid.S9", 470, recipient=INTERNAL), META) == []


async def test_a_message_refused_because_the_customer_opted_out_alerts_nobody() -> None:
    n = _notifier()
    refused = reply_failed("r1", None)
    refused.payload.reason = "opted_out"
    assert await n.handle(refused, META) == []
    assert len(_replies(await n.handle(reply_failed("r2", None), META))) == 2  # an unsendable reply still alerts


async def test_arrival_is_the_record_time_not_metas_whole_second_timestamp() -> None:
    n = _notifier()
    await n.handle(handoff(), META)
    since = await n.state.active_since(conv())
    assert since is not None
    # Sent in the same second as the handoff: Meta's timestamp (whole seconds) reads earlier, ingress wrote it later.
    quick = message("wamid.M1", "urgente por favor", at=datetime.fromtimestamp(int(since), UTC))
    written_after = RecordMeta(topic="t", partition=0, offset=1, key=None, timestamp_ms=int(since * 1000) + 50)
    assert len(await n.handle(quick, written_after)) == 2
    written_before = RecordMeta(topic="t", partition=0, offset=0, key=None, timestamp_ms=int(since * 1000) - 50)
    assert await n.handle(message("wamid.M0", "quiero un asesor"), written_before) == []
