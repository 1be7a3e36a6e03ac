"""DLQ growth on the real broker: the fetch high watermark of the dead-letter topics, alerts rate-limited."""

from __future__ import annotations

from schemas.events import ReplyRequested
from schemas.topics import DELIVERY, INBOUND, dlq_name
from tests.integration.notifier.conftest import Running
from tests.unit.notifier.events import INTERNAL, TENANT


async def _poison(running: Running, prefix: str, topic: str, n: int) -> None:
    for i in range(n):
        await running.producer.send(prefix + dlq_name(topic), b"{not json", f"{TENANT}:57300000{i:04d}".encode(),
                                    [("dlq.error.class", b"ValueError")])


async def test_dlq_growth_alerts_the_internal_numbers_once_per_window(notifier: Running, topic_prefix: str) -> None:
    watchdog = notifier.app.watchdog
    assert await watchdog.check_once() == []  # empty DLQs: nothing to say

    await _poison(notifier, topic_prefix, INBOUND, 3)
    emits = await watchdog.check_once()
    assert len(emits) == 1
    alert = emits[0].event
    assert isinstance(alert, ReplyRequested) and alert.payload.to.wa_id == INTERNAL
    assert alert.payload.audience == "internal" and alert.tenant == TENANT
    assert "wa.inbound.v1.dlq" in (alert.payload.text or "") and "3 evento(s)" in (alert.payload.text or "")

    assert await watchdog.check_once() == []  # no growth, no alert
    await _poison(notifier, topic_prefix, INBOUND, 2)
    assert await watchdog.check_once() == []  # grew again within 10 min: rate-limited
    await _poison(notifier, topic_prefix, DELIVERY, 1)
    emits = await watchdog.check_once()  # another DLQ is another alert
    assert len(emits) == 1 and "wa.delivery.v1.dlq" in (emits[0].event.payload.text or "")
    reg = notifier.registry
    assert reg.get_sample_value("wapipe_alerts_total", {"kind": "dlq", "outcome": "sent"}) == 2
    assert reg.get_sample_value("wapipe_alerts_total", {"kind": "dlq", "outcome": "rate_limited"}) == 1
