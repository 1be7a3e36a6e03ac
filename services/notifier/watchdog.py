"""Periodic checks that no event triggers: DLQ growth (alert the internal numbers, rate-limited) and the active
handoffs gauge. Runs next to the consumer in the notifier process."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from typing import Protocol

from schemas.envelope import conversation_key, derive_id
from schemas.events import Recipient, ReplyRequested, ReplyRequestedPayload
from schemas.topics import OUTBOUND
from services.notifier import texts
from services.notifier.dlq import DlqWatch
from services.notifier.metrics import NotifierMetrics
from services.notifier.state import RedisNotifierState
from wapipe.runtime.types import Emit
from wapipe.tenants import Tenant

log = logging.getLogger(__name__)


class Publisher(Protocol):
    """The part of `wapipe.runtime.producer.Producer` used here."""

    async def publish_all(self, emits: Iterable[Emit]) -> None: ...


class TenantList(Protocol):
    """The part of `wapipe.tenants.TenantRegistry` used here."""

    def all(self) -> list[Tenant]: ...


class Watchdog:
    def __init__(self, watch: DlqWatch, state: RedisNotifierState, tenants: TenantList, publisher: Publisher,
                 metrics: NotifierMetrics, *, interval_s: float, alert_interval_s: int) -> None:
        self.watch = watch
        self.state = state
        self.tenants = tenants
        self.publisher = publisher
        self.metrics = metrics
        self.interval_s = interval_s
        self.alert_interval_s = alert_interval_s
        self._stop = asyncio.Event()

    async def run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.check_once()
            except Exception:  # a failed check is retried next round; it must not stop the consumer process
                log.exception("notifier periodic check failed")
            try:
                await asyncio.wait_for(self._stop.wait(), self.interval_s)
            except TimeoutError:
                pass

    async def stop(self) -> None:
        self._stop.set()

    async def check_once(self) -> list[Emit]:
        tenants = self.tenants.all()
        active = await self.state.active()
        for t in tenants:
            self.metrics.active.labels(t.phone_number_id).set(
                sum(1 for a in active if a.conversation.startswith(f"{t.phone_number_id}:")))
        sent: list[Emit] = []
        for topic, total in (await self.watch.totals()).items():
            seen = await self.state.dlq_seen(topic) or 0
            if total > seen:
                emits = await self._alert(tenants, topic, total - seen, total)
                sent += emits
            if total != seen:
                await self.state.set_dlq_seen(topic, total)
        return sent

    async def _alert(self, tenants: Sequence[Tenant], topic: str, grew_by: int, total: int) -> list[Emit]:
        correlation = "dlq-" + derive_id(topic, total)[:24]
        log.warning("DLQ %s grew by %d (total %d)", topic, grew_by, total)
        emits: list[Emit] = []
        text = texts.dlq_alert(topic=topic, grew_by=grew_by, total=total)
        for t in tenants:
            if not t.internal_numbers:
                continue
            if not await self.state.allow_alert(f"{t.phone_number_id}:dlq:{topic}", correlation,
                                                self.alert_interval_s):
                self.metrics.alerts.labels("dlq", "rate_limited").inc()
                continue
            self.metrics.alerts.labels("dlq", "sent").inc()
            self.metrics.notifications.labels(t.phone_number_id, "alert").inc(len(t.internal_numbers))
            for number in t.internal_numbers:
                emits.append(Emit(OUTBOUND, ReplyRequested(
                    event_id=derive_id(correlation, "notifier", t.phone_number_id, number),
                    tenant=t.phone_number_id, conversation=conversation_key(t.phone_number_id, number),
                    correlation_id=correlation, payload=ReplyRequestedPayload(
                        reply_id=derive_id(correlation, "notifier", "alert-dlq", t.phone_number_id, number),
                        audience="internal", to=Recipient(wa_id=number), kind="text", text=text,
                        origin="notifier", route="notifier_alert-dlq"))))
        if emits:
            await self.publisher.publish_all(emits)
        return emits
