"""The sender's handler: a ReplyRequested is planned (`plan.py`, pure), then the plan is carried out over ports
(`ports.py`: delivery of each part, window, consent, tenant policies, template state, turns, traces, /api/chat
replies); events out. Meta's statuses confirm in-doubt sends; its template webhooks (wa.account.v1) update the
template state, so a template Meta paused, disabled or rejected is refused here instead of sent. A message refused
because the customer opted out ends in a ReplyFailed with reason `opted_out`, and not in the DLQ: nothing failed,
there is nothing to replay.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from schemas.envelope import Envelope, parse_conversation_key
from schemas.events import (
    MEDIA_REPLY_KINDS,
    ReplyRequested,
    StatusReceived,
    TemplateRef,
    TemplateStatusChanged,
)
from services.sender import consent
from services.sender.consent import OPTED_OUT, OptedOut
from services.sender.graph import WINDOW_CLOSED, GraphError
from services.sender.media import MediaRefused, MediaResolver
from services.sender.metrics import SenderMetrics
from services.sender.outcomes import Outcomes
from services.sender.plan import (
    STEP_TEMPLATE_BLOCKED,
    Blocked,
    Part,
    Plan,
    Receipt,
    Refuse,
    ToApi,
    needs_window,
    plan_reply,
    template_part,
    template_refusal,
)
from services.sender.ports import (
    AnswersPort,
    ApiReplies,
    ConsentPort,
    DeliveryPort,
    PartResult,
    TemplatePort,
    TenantPolicies,
    TraceSink,
    TurnSink,
    WindowPort,
)
from wapipe.apichat import ApiChatReply, tool_calls
from wapipe.runtime.types import Emit, RecordMeta

log = logging.getLogger(__name__)


@dataclass
class Sender:
    delivery: DeliveryPort
    window: WindowPort
    policies: TenantPolicies
    store: TraceSink
    turns: TurnSink
    api_replies: ApiReplies
    metrics: SenderMetrics
    answers: AnswersPort
    consent: ConsentPort
    templates: TemplatePort
    clock: Callable[[], float] = time.time  # epoch seconds: is a template's pause over?
    media: MediaResolver | None = None  # media replies: links through the guard, bytes uploaded once per hash
    # Part of every claim token: a replica never holds another's lease, even for the same record.
    instance: str = field(default_factory=lambda: uuid.uuid4().hex)
    outcomes: Outcomes = field(init=False)

    def __post_init__(self) -> None:
        self.outcomes = Outcomes(self.store, self.turns, self.metrics)

    async def handle(self, event: Envelope, meta: RecordMeta) -> Sequence[Emit]:
        if isinstance(event, StatusReceived):
            p = event.payload
            code = str(p.errors[0].code) if p.errors else ""
            self.metrics.statuses.labels(event.tenant, p.status, code).inc()
            if p.biz_opaque_callback_data and p.status in ("sent", "delivered", "read", "played"):
                await self.delivery.confirm(p.biz_opaque_callback_data, p.message_id)
            return []
        if isinstance(event, ReplyRequested):
            return await self.reply(event, lease=f"{self.instance}:{meta.topic}:{meta.partition}:{meta.offset}")
        if isinstance(event, TemplateStatusChanged):
            if await self.templates.record(event.payload):
                log.info("template %s (%s) of account %s: %s", event.payload.name, event.payload.language,
                         event.tenant, event.payload.event or event.payload.quality or event.payload.category)
            return []
        return []  # other account events: the notifier's

    async def reply(self, event: ReplyRequested, lease: str | None = None) -> Sequence[Emit]:
        """Decide (`plan_reply`, pure), then carry the plan out. `lease`: the claim token of this record's sends,
        the same for every attempt at it, so a retry holds its own lease again instead of waiting it out (a send
        whose Redis failed under it cannot release its claim)."""
        p = event.payload
        started = datetime.now(UTC)
        if p.covers and p.channel == "whatsapp" and (reason := await self.answers.begin(event.tenant, p.covers)):
            return await self.outcomes.cancelled(event, reason, started)
        if p.kind in MEDIA_REPLY_KINDS and p.media is not None and p.channel == "whatsapp":
            event = await self._resolved(event)
            p = event.payload
        policy = self.policies.policy(event.tenant)
        window_open = await self.window.is_open(event.conversation) if needs_window(p) else None
        opted_out = await self._opted_out(event) if consent.applies(p) else None
        # The templates this plan could send: the request's own, and the window template when the window is shut.
        refs = [p.template] if p.kind == "template" and p.template else []
        if window_open is False and policy.window_template is not None:
            refs.append(policy.window_template)
        plan = plan_reply(p, policy, window_open, opted_out, await self._blocked(event.tenant, refs))
        return await self.execute(event, plan, started, lease)

    async def _resolved(self, event: ReplyRequested) -> ReplyRequested:
        """The reply with its media named by an uploaded id or an admitted link; ReplyFailed when it cannot be."""
        p = event.payload
        assert p.media is not None and p.kind in MEDIA_REPLY_KINDS
        if self.media is None:
            return await self._media_failed(event, None, "media replies are not configured", 0, "media_not_configured")
        try:
            media = await self.media.resolve(event.tenant, p.kind, p.media)  # type: ignore[arg-type]
        except MediaRefused as e:
            event.trace.step(f"sender:media_refused:{e.reason}")
            return await self._media_failed(event, None, f"media refused: {e}", 0, f"media_{e.reason}")
        except GraphError as e:
            if e.action == "permanent":  # 131053 media upload error, 100 ...: the same bytes will fail again
                return await self._media_failed(event, e.code, f"media upload: {e.title}", 1, "media_upload")
            raise  # retryable: the runtime tries the record again
        return event.model_copy(update={"payload": p.model_copy(update={"media": media})})

    async def _media_failed(self, event: ReplyRequested, code: int | None, title: str, attempts: int,
                            reason: str) -> ReplyRequested:
        """Media that cannot go: its caption goes as a text instead, so an answer is not lost with its picture;
        without a caption there is nothing to say and the reply fails."""
        p = event.payload
        caption = (p.media.caption or "").strip() if p.media is not None else ""
        if not caption:
            await self.outcomes.failed(event, code, title, attempts, reason)
        log.info("reply %s: %s; its caption goes as text", p.reply_id[:12], reason)
        event.trace.step(f"sender:media_fallback:{reason}")
        text = p.model_validate(p.model_dump() | {"kind": "text", "text": caption, "media": None})
        return event.model_copy(update={"payload": text})

    async def _opted_out(self, event: ReplyRequested) -> OptedOut | None:
        # Keyed by the conversation's user, as guardrails records it: one identity whatever id the reply addresses.
        state = await self.consent.state(event.tenant, parse_conversation_key(event.conversation).user)
        if not state.opted_out:
            return None
        last = await self.window.last_inbound(event.conversation)
        return OptedOut(wrote_since=last is not None and state.since is not None and last > state.since)

    async def _blocked(self, tenant: str, templates: Sequence[TemplateRef]) -> Blocked:
        """The templates among `templates` that Meta would refuse now (nothing is read without an account)."""
        account = self.policies.policy(tenant).account
        if account is None or not templates:
            return {}
        now = self.clock()
        return {k: st for k, st in (await self.templates.states(account, templates)).items() if st.blocked(now)}

    async def execute(self, event: ReplyRequested, plan: Plan, started: datetime,
                      lease: str | None = None) -> Sequence[Emit]:
        """Send what the plan says, each part at most once; ReplySent, or ReplyFailed raised with the record."""
        if isinstance(plan, ToApi):
            return await self._api_reply(event, started)
        if isinstance(plan, Receipt):
            if plan.body is not None:
                await self.delivery.mark_read(event.tenant, plan.body)
            return []
        if isinstance(plan, Refuse):
            if plan.reason == OPTED_OUT:
                return await self.outcomes.refused(event, plan.title)
            if plan.step:
                event.trace.step(plan.step)
            await self.outcomes.failed(event, plan.code, plan.title, 0, plan.reason)
        for step in plan.steps:
            event.trace.step(step)
        if plan.read is not None:
            await self.delivery.mark_read(event.tenant, plan.read)
        p = event.payload
        wamids: list[str] = []
        attempts = 0
        fallback = plan.template_fallback
        for part in plan.parts:
            try:
                sent = await self._send(event, part, lease)
            except GraphError as e:
                if e.code == WINDOW_CLOSED and plan.no_template_reason == OPTED_OUT:
                    return await self.outcomes.refused(event, "the customer opted out: Meta says the window is closed, "
                                                      "and no template may follow")
                if e.code != WINDOW_CLOSED or plan.window_template is None:
                    await self.outcomes.failed(event, e.code, e.title, attempts + 1)
                # Meta knows better than our clock: fall back to the template, once, and stop there; unless Meta
                # has paused, disabled or rejected it.
                blocked = await self._blocked(event.tenant, [plan.window_template])
                if refused := template_refusal(plan.window_template, blocked):
                    event.trace.step(refused.step or STEP_TEMPLATE_BLOCKED)
                    await self.outcomes.failed(event, refused.code, f"24 h window closed and the {refused.title}",
                                       attempts + 1)
                event.trace.step("sender:131047_template")
                fallback = True
                try:
                    sent = await self._send(event, template_part(p, plan.window_template), lease)
                except GraphError as e2:
                    await self.outcomes.failed(event, e2.code, e2.title, attempts + 1)
                wamids.append(sent.wamid)
                attempts += sent.attempts
                break
            wamids.append(sent.wamid)
            attempts += sent.attempts
        if fallback:
            self.metrics.template_fallbacks.labels(event.tenant).inc()
        return await self.outcomes.sent(event, wamids, attempts, fallback, started)

    async def _send(self, event: ReplyRequested, part: Part, lease: str | None) -> PartResult:
        return await self.delivery.send_once(part.send_id, event.tenant, event.payload.to.user, part.kind, part.body,
                                             token=lease)

    async def _api_reply(self, event: ReplyRequested, started: datetime) -> Sequence[Emit]:
        p, t = event.payload, event.trace
        received = t.received_at or event.occurred_at
        await self.api_replies(event.correlation_id, ApiChatReply(
            reply=p.text or "", route=p.route or t.route, decision_path=t.decision_path, llm_called=t.llm_called,
            latency_ms=int((time.time() - received.timestamp()) * 1000), tools=tool_calls(t)))
        return await self.outcomes.sent(event, [], 1, False, started)
