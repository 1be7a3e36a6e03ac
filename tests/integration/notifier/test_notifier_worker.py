"""The notifier worker on the real broker and Redis: handoff in -> notifications out; relays; alerts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from schemas.events import ReplyRequested
from schemas.topics import DELIVERY, HANDOFF, INBOUND, OUTBOUND, STATUS
from tests.integration.notifier.conftest import Running
from tests.support import read_topic
from tests.unit.notifier.events import CUSTOMER, INTERNAL, TENANT, handoff, message, reply_failed, status_failed
from wapipe.runtime.types import Emit
from wapipe.state.shadow import ShadowMode


def _sample(registry, name: str, **labels: str) -> float:  # type: ignore[no-untyped-def]
    return registry.get_sample_value(name, labels) or 0.0


async def _outbound(bootstrap: str, prefix: str, expect: int) -> list[ReplyRequested]:
    records = await asyncio.to_thread(read_topic, bootstrap, prefix + OUTBOUND, expect=expect, timeout=30)
    events = [r.event() for r in records]
    assert all(isinstance(e, ReplyRequested) for e in events)
    return events  # type: ignore[return-value]


async def test_handoff_relay_and_alerts_end_to_end_on_the_broker(notifier: Running, kafka_bootstrap: str,
                                                                   topic_prefix: str, redis_client) -> None:  # type: ignore[no-untyped-def]
    trigger = message("wamid.T0", "quiero hablar con un asesor", at=datetime.now(UTC) - timedelta(seconds=2))
    h = handoff("wamid.T0")
    # The same handoff delivered twice (at-least-once upstream) must still mean one notification.
    await notifier.producer.publish_all([Emit(INBOUND, trigger), Emit(HANDOFF, h), Emit(HANDOFF, h)])
    await notifier.start_worker()

    replies = await _outbound(kafka_bootstrap, topic_prefix, expect=4)
    assert len(replies) == 4
    by_reply = {r.payload.reply_id: r for r in replies}
    assert len(by_reply) == 2  # the duplicate produced the same reply ids: the sender sends each once
    internal = [r for r in by_reply.values() if r.payload.audience == "internal"]
    customer = [r for r in by_reply.values() if r.payload.audience == "customer"]
    assert [r.payload.to.user for r in internal] == [INTERNAL]
    assert "…4567" in (internal[0].payload.text or "") and CUSTOMER not in (internal[0].payload.text or "")
    assert customer[0].payload.to.user == CUSTOMER and "asesor" in (customer[0].payload.text or "")
    assert await ShadowMode(redis_client).is_active(f"{TENANT}:{CUSTOMER}")
    audit = await notifier.store.handoffs(TENANT, CUSTOMER)
    assert {"requested", "notified"} <= {e.action for e in audit}

    # HUMAN_ACTIVE: the customer's next message is relayed to the internal number.
    await notifier.producer.publish_all([Emit(INBOUND, message("wamid.T1", "hola? alguien me ayuda con la talla"))])
    replies = await _outbound(kafka_bootstrap, topic_prefix, expect=5)
    relay = [r for r in replies if r.payload.route == "notifier_relay"]
    assert len(relay) == 1 and "alguien me ayuda con la talla" in (relay[0].payload.text or "")

    # Permanent delivery failures: one alert per tenant+code in the window.
    await notifier.producer.publish_all([Emit(DELIVERY, reply_failed("r1", 131026)),
                                         Emit(DELIVERY, reply_failed("r2", 131026)),
                                         Emit(STATUS, status_failed("wamid.S1", 131049))])
    replies = await _outbound(kafka_bootstrap, topic_prefix, expect=7)
    assert len(replies) == 7
    alerts = [r for r in replies if (r.payload.route or "").startswith("notifier_alert")]
    assert sorted(r.payload.route or "" for r in alerts) == ["notifier_alert-delivery", "notifier_alert-status"]
    assert any("131026" in (a.payload.text or "") for a in alerts)
    assert any("131049" in (a.payload.text or "") for a in alerts)
    reg = notifier.registry
    assert _sample(reg, "wapipe_handoffs_total", tenant=TENANT, reason="humano", outcome="notified") >= 1
    assert _sample(reg, "wapipe_relayed_messages_total", tenant=TENANT) == 1
    assert _sample(reg, "wapipe_alerts_total", kind="delivery", outcome="rate_limited") == 1
