"""What becomes of a reply, once the sender has tried it: the outcome event (ReplySent, ReplyCancelled, ReplyFailed),
its metrics, and what the store keeps of it (the turn of a sent customer reply, the trace). The handler
(`handlers.py`) decides which; these write it the same way for every path that ends there."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NoReturn

from schemas.envelope import parse_conversation_key
from schemas.events import (
    MEDIA_REPLY_KINDS,
    ReplyCancelled,
    ReplyCancelledPayload,
    ReplyFailed,
    ReplyFailedPayload,
    ReplyRequested,
    ReplySent,
    ReplySentPayload,
    caused_by,
)
from schemas.topics import DELIVERY
from services.sender import consent
from services.sender.consent import OPTED_OUT
from services.sender.metrics import SenderMetrics
from services.sender.ports import TraceSink, TurnSink
from wapipe.logging import mask_phone
from wapipe.runtime.types import Emit, PermanentError
from wapipe.store.port import Role, TraceRecord, Turn

log = logging.getLogger(__name__)


class ReplyFailedError(PermanentError):
    """A reply that cannot be delivered: the runtime produces `emits` (the ReplyFailed), then DLQs the record."""


@dataclass
class Outcomes:
    store: TraceSink
    turns: TurnSink
    metrics: SenderMetrics

    async def sent(self, event: ReplyRequested, wamids: list[str], attempts: int, fallback: bool,
                    started: datetime) -> Sequence[Emit]:
        p = event.payload
        event.trace.step("sender:sent")
        event.trace.timed("sender", started)
        sent = caused_by(ReplySent, event, "sender", ReplySentPayload(
            reply_id=p.reply_id, channel=p.channel, audience=p.audience, to=p.to, kind=p.kind, wamids=wamids,
            parts=len(wamids), attempts=max(attempts, 1), template_fallback=fallback))
        self.metrics.replies.labels(event.tenant, p.channel, "sent").inc()
        if p.audience == "customer" and event.trace.received_at is not None:
            latency = (datetime.now(UTC) - event.trace.received_at).total_seconds()
            self.metrics.reply_latency.labels(event.tenant, p.channel).observe(max(0.0, latency))
        if p.audience == "customer":
            role: Role = "human" if p.origin.startswith("operator") else "assistant"
            text = p.text or (f"[template {p.template.name}]" if p.template else "") or p.emoji or ""
            if p.kind in MEDIA_REPLY_KINDS or p.kind in ("location", "contacts"):
                text = (p.media.caption if p.media else None) or f"[{p.kind}]"
            # The event's own time, so a redelivered reply writes the same (idempotent) rows; under the
            # conversation key's user, whatever ids the customer wrote with.
            user = parse_conversation_key(event.conversation).user
            # Together, so the store commits both in one transaction (both idempotent: a retry writes them again).
            await asyncio.gather(
                self.turns.append_turn(Turn(event.tenant, user, event.occurred_at, role, text, tuple(wamids))),
                self.store.write_trace(TraceRecord.from_event(event, "replied")))
        log.info("reply %s sent to %s in %d part(s)", p.reply_id[:12], mask_phone(p.to.user), len(wamids))
        return [Emit(DELIVERY, sent)]

    async def cancelled(self, event: ReplyRequested, reason: str, started: datetime) -> Sequence[Emit]:
        """Every message the reply answers was deleted (or edited, and the edit is answered on its own) before it
        went out: nothing is sent."""
        p = event.payload
        event.trace.step(f"sender:cancelled:{reason}")
        event.trace.timed("sender", started)
        cancelled = caused_by(ReplyCancelled, event, "sender", ReplyCancelledPayload(
            reply_id=p.reply_id, channel=p.channel, audience=p.audience, to=p.to, kind=p.kind,
            reason="edited" if reason == "edited" else "revoked", message_ids=p.covers))
        self.metrics.cancelled.labels(event.tenant, reason).inc()
        await self.store.write_trace(TraceRecord.from_event(event, "cancelled"))
        log.info("reply %s to %s cancelled: the customer %s what it answered", p.reply_id[:12],
                 mask_phone(p.to.user), reason)
        return [Emit(DELIVERY, cancelled)]

    def failure(self, event: ReplyRequested, code: int | None, title: str, attempts: int,
                 reason: str | None = None) -> ReplyFailed:
        p = event.payload
        return caused_by(ReplyFailed, event, "sender", ReplyFailedPayload(
            reply_id=p.reply_id, channel=p.channel, audience=p.audience, to=p.to, kind=p.kind, error_code=code,
            error_title=title[:200], attempts=max(attempts, 1), permanent=True, reason=reason))

    async def refused(self, event: ReplyRequested, title: str) -> Sequence[Emit]:
        """The customer opted out and this is not an answer to them: nothing is sent, the ReplyFailed says why."""
        p = event.payload
        event.trace.step(consent.STEP_REFUSED)
        self.metrics.refused.labels(event.tenant, OPTED_OUT).inc()
        await self.store.write_trace(TraceRecord.from_event(event, OPTED_OUT))
        log.info("reply %s to %s refused: %s", p.reply_id[:12], mask_phone(p.to.user), title)
        return [Emit(DELIVERY, self.failure(event, None, title, 0, OPTED_OUT))]

    async def failed(self, event: ReplyRequested, code: int | None, title: str, attempts: int,
                      reason: str | None = None) -> NoReturn:
        p = event.payload
        event.trace.step(f"sender:failed:{code or 'invalid'}")
        failed = self.failure(event, code, title, attempts, reason)
        self.metrics.replies.labels(event.tenant, p.channel, "failed").inc()
        self.metrics.failures.labels(event.tenant, str(code or "invalid")).inc()
        if p.audience == "customer":
            await self.store.write_trace(TraceRecord.from_event(event, "failed"))
        log.warning("reply %s to %s failed permanently: %s %s", p.reply_id[:12], mask_phone(p.to.user), code, title)
        raise ReplyFailedError(f"reply {p.reply_id} failed: {code} {title}", [Emit(DELIVERY, failed)])
