"""The sender's decisions: what to send for a ReplyRequested, and what to record afterwards.

Ports in (Graph API, claims, pacing, window, tenant policies, store, Redis for /api/chat), events out.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NoReturn, Protocol

from schemas.envelope import Envelope
from schemas.events import (
    ReplyFailed,
    ReplyFailedPayload,
    ReplyRequested,
    ReplySent,
    ReplySentPayload,
    StatusReceived,
    caused_by,
)
from schemas.topics import DELIVERY
from services.sender.bodies import FREE_FORM, message_bodies, read_body, template_body
from services.sender.delivery import Delivery
from services.sender.graph import WINDOW_CLOSED, GraphError
from services.sender.metrics import SenderMetrics
from services.sender.ports import TenantPolicies
from wapipe.apichat import ApiChatReply
from wapipe.logging import mask_phone
from wapipe.runtime.types import Emit, PermanentError, RecordMeta
from wapipe.store.port import ConversationStore, Role, TraceRecord, Turn

log = logging.getLogger(__name__)


class TurnSink(Protocol):
    """Where conversation turns go (the context cache over the store, so the AI sees the new turn)."""

    async def append_turn(self, turn: Turn) -> None: ...


class WindowPort(Protocol):
    async def is_open(self, conversation: str, now: datetime | None = None) -> bool: ...


ApiReplies = Callable[[str, ApiChatReply], Awaitable[None]]


class ReplyFailedError(PermanentError):
    """A reply that cannot be delivered: the runtime produces `emits` (the ReplyFailed), then DLQs the record."""


@dataclass
class Sender:
    delivery: Delivery
    window: WindowPort
    policies: TenantPolicies
    store: ConversationStore
    turns: TurnSink
    api_replies: ApiReplies
    metrics: SenderMetrics

    async def handle(self, event: Envelope, meta: RecordMeta) -> Sequence[Emit]:
        if isinstance(event, StatusReceived):
            p = event.payload
            code = str(p.errors[0].code) if p.errors else ""
            self.metrics.statuses.labels(event.tenant, p.status, code).inc()
            if p.biz_opaque_callback_data and p.status in ("sent", "delivered", "read", "played"):
                await self.delivery.claims.confirm(p.biz_opaque_callback_data, p.message_id)
            return []
        if isinstance(event, ReplyRequested):
            return await self.reply(event)
        return []

    async def reply(self, event: ReplyRequested) -> Sequence[Emit]:
        p = event.payload
        started = datetime.now(UTC)
        if p.channel == "api":
            return await self._api_reply(event, started)
        policy = self.policies.policy(event.tenant)
        if p.kind in ("read", "typing"):
            if p.in_reply_to:
                await self.delivery.mark_read(event.tenant, read_body(p.in_reply_to, typing=p.kind == "typing"))
            return []
        try:
            bodies = message_bodies(p)
        except ValueError as e:
            await self._failed(event, None, f"unsendable reply: {str(e)[:200]}", 0)
        fallback = False
        if p.kind in FREE_FORM and p.audience == "customer" and not await self.window.is_open(event.conversation):
            if policy.window_template is None:
                await self._failed(event, WINDOW_CLOSED, "24 h window closed and no template configured", 0)
            event.trace.step("sender:window_closed_template")
            bodies, fallback = [template_body(p, policy.window_template)], True
        elif p.audience == "customer" and p.in_reply_to and p.kind != "reaction" and policy.mark_as_read:
            await self.delivery.mark_read(event.tenant, read_body(p.in_reply_to, typing=policy.typing))

        wamids: list[str] = []
        attempts = 0
        for i, body in enumerate(bodies):
            send_id = f"{p.reply_id}:{'tpl' if fallback else i}"
            body["biz_opaque_callback_data"] = send_id  # statuses map back to this part
            try:
                part = await self.delivery.send_once(send_id, event.tenant, p.to.user, body["type"], body)
            except GraphError as e:
                if e.code == WINDOW_CLOSED and not fallback and policy.window_template is not None:
                    # Meta knows better than our clock: fall back to the template, once.
                    event.trace.step("sender:131047_template")
                    fallback = True
                    body = template_body(p, policy.window_template)
                    body["biz_opaque_callback_data"] = f"{p.reply_id}:tpl"
                    try:
                        part = await self.delivery.send_once(f"{p.reply_id}:tpl", event.tenant, p.to.user,
                                                             "template", body)
                    except GraphError as e2:
                        await self._failed(event, e2.code, e2.title, attempts + 1)
                    wamids.append(part.wamid)
                    attempts += part.attempts
                    break
                await self._failed(event, e.code, e.title, attempts + 1)
            wamids.append(part.wamid)
            attempts += part.attempts
        if fallback:
            self.metrics.template_fallbacks.labels(event.tenant).inc()
        return await self._sent(event, wamids, attempts, fallback, started)

    async def _sent(self, event: ReplyRequested, wamids: list[str], attempts: int, fallback: bool,
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
            # The event's own time, so a redelivered reply writes the same (idempotent) rows.
            await self.turns.append_turn(Turn(event.tenant, p.to.user, event.occurred_at, role, text, tuple(wamids)))
            await self.store.write_trace(TraceRecord.from_event(event, "replied"))
        log.info("reply %s sent to %s in %d part(s)", p.reply_id[:12], mask_phone(p.to.user), len(wamids))
        return [Emit(DELIVERY, sent)]

    async def _failed(self, event: ReplyRequested, code: int | None, title: str, attempts: int) -> NoReturn:
        p = event.payload
        event.trace.step(f"sender:failed:{code or 'invalid'}")
        failed = caused_by(ReplyFailed, event, "sender", ReplyFailedPayload(
            reply_id=p.reply_id, channel=p.channel, audience=p.audience, to=p.to, kind=p.kind, error_code=code,
            error_title=title[:200], attempts=max(attempts, 1), permanent=True))
        self.metrics.replies.labels(event.tenant, p.channel, "failed").inc()
        self.metrics.failures.labels(event.tenant, str(code or "invalid")).inc()
        if p.audience == "customer":
            await self.store.write_trace(TraceRecord.from_event(event, "failed"))
        log.warning("reply %s to %s failed permanently: %s %s", p.reply_id[:12], mask_phone(p.to.user), code, title)
        raise ReplyFailedError(f"reply {p.reply_id} failed: {code} {title}", [Emit(DELIVERY, failed)])

    async def _api_reply(self, event: ReplyRequested, started: datetime) -> Sequence[Emit]:
        p, t = event.payload, event.trace
        received = t.received_at or event.occurred_at
        await self.api_replies(event.correlation_id, ApiChatReply(
            reply=p.text or "", route=p.route or t.route, decision_path=t.decision_path, llm_called=t.llm_called,
            latency_ms=int((time.time() - received.timestamp()) * 1000)))
        return await self._sent(event, [], 1, False, started)
