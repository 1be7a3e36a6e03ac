"""What the console's pages show, read from Redis (shadow mode, the inbox index) and the conversation store, and
filtered by the operator's scope. Pure assembly, no HTTP: `web.py` renders these into templates.

A conversation's state: `waiting` (handed off, nobody took it yet), `human` (an operator, or a person on the
WhatsApp Business app, has it), `bot` (nobody: the bot answers).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from schemas.envelope import parse_conversation_key
from services.console.media import MediaCard, RedisMediaCards
from services.console.store_redis import RedisInbox, Summary
from wapipe.access import Scope
from wapipe.logging import mask_phone
from wapipe.state.shadow import ActiveHandoff, ShadowMode
from wapipe.store.port import ConversationStore, HandoffEntry, TraceRecord

State = Literal["bot", "human", "waiting"]
BOT_ACTORS = frozenset({"guardrails", "ai", "notifier"})
HISTORY = 200


def state_of(active: ActiveHandoff | None) -> State:
    if active is None:
        return "bot"
    if active.reason != "operator" and active.actor in BOT_ACTORS:
        return "waiting"
    return "human"


def handler_of(active: ActiveHandoff | None) -> str:
    """Who has a human conversation: the operator's name, or the actor as recorded (`business_app`, ...)."""
    if active is None:
        return ""
    return active.actor.removeprefix("operator:")


@dataclass(frozen=True)
class Row:
    ref: str
    tenant: str
    customer: str  # masked
    profile_name: str
    state: State
    reason: str
    since: float
    last_text: str
    last_role: str
    last_at: float
    unread: int
    handler: str

    def waiting_min(self, now: float | None = None) -> int:
        return max(0, int(((now or time.time()) - self.since) // 60))


@dataclass(frozen=True)
class Line:
    """One line of a conversation's history: a turn, or an operator's note or action."""

    ts: datetime
    role: str  # customer, assistant, human, note, event
    text: str
    who: str = ""
    trace: dict[str, Any] | None = None
    pending: bool = False  # seen on the topics, not in the store yet
    media: MediaCard | None = None  # a customer's media message, as the media stage understood it


@dataclass
class Conversation:
    row: Row
    lines: list[Line] = field(default_factory=list)


def _row(s: Summary, active: ActiveHandoff | None) -> Row:
    return Row(s.ref, s.tenant, mask_phone(s.user), s.profile_name, state_of(active),
               active.reason if active else "", active.since if active else s.last_at,
               s.last_customer if active and state_of(active) == "waiting" else s.last_text, s.last_role,
               s.last_at, s.unread, handler_of(active))


def matches(s: Summary, q: str) -> bool:
    if q.isdigit():
        return len(q) >= 2 and s.user.endswith(q)
    return q in s.profile_name.lower()


def author_of(ts: datetime, text: str, audit: list[HandoffEntry]) -> str:
    """Who wrote a human turn: the `reply` audit entry of the same time (an echo's), else of the same text (an
    operator's reply, stored by the sender at its own time); the name without `operator:`, or "" when unknown."""
    replies = [h for h in audit if h.action == "reply"]
    for same in (lambda h: h.ts == ts, lambda h: (h.detail or "") == text[:500]):
        found = [h for h in replies if same(h)]
        if found:
            return found[-1].actor.removeprefix("operator:")
    return ""


def trace_view(t: TraceRecord) -> dict[str, Any]:
    attrs = t.attrs
    tools = [step.removeprefix("tool:") for step in t.decision_path if step.startswith("tool:")]
    return {"route": t.route or "-", "rule": attrs.get("rule", "-"), "intent": t.intent or "-",
            "model": attrs.get("model") or attrs.get("llm_model") or ("-" if not t.llm_called else "llm"),
            "tools": ", ".join(tools) or "-", "latency_s": round(sum(t.stages.values()), 3),
            "cost_usd": attrs.get("cost_usd", attrs.get("llm_cost_usd", 0)),
            "path": " → ".join(t.decision_path), "cache_hit": t.cache_hit}


@dataclass
class Views:
    shadow: ShadowMode
    inbox: RedisInbox
    store: ConversationStore
    cards: RedisMediaCards | None = None

    async def _active(self) -> dict[str, ActiveHandoff]:
        return {a.conversation: a for a in await self.shadow.active()}

    async def queue(self, who: Scope) -> list[Row]:
        """Conversations waiting for a person, oldest first."""
        waiting = [a for a in (await self._active()).values()
                   if state_of(a) == "waiting" and who.allows(parse_conversation_key(a.conversation).phone_number_id)]
        for a in waiting:
            await self.inbox.remember(a.conversation)
        summaries = await self.inbox.summaries([a.conversation for a in waiting])
        rows = [_row(s, a) for s, a in zip(summaries, waiting, strict=True)]
        return sorted(rows, key=lambda r: r.since)

    async def conversations(self, who: Scope, state: str | None = None, query: str | None = None) -> list[Row]:
        """The operator's tenants' conversations, most recent first; `state` filters, `query` matches the
        profile name (any part) or the last digits of the number (two or more)."""
        active = await self._active()
        listed = await self.inbox.recent(None if who.all_tenants else who.tenants)
        convs = [c for c in listed if who.allows(parse_conversation_key(c).phone_number_id)]
        summaries = await self.inbox.summaries(convs)
        q = (query or "").strip().lower()
        if q:
            summaries = [s for s in summaries if matches(s, q)]
        rows = [_row(s, active.get(s.conversation)) for s in summaries]
        return [r for r in rows if r.state == state] if state in ("bot", "human", "waiting") else rows

    async def conversation(self, conv: str) -> Conversation:
        key = parse_conversation_key(conv)
        summary = await self.inbox.summary(conv)
        row = _row(summary, (await self._active()).get(conv))
        turns = await self.store.last_turns(key.phone_number_id, key.user, HISTORY)
        traces = {t.ts: t for t in await self.store.traces_by_conversation(key.phone_number_id, conv, HISTORY)
                  if t.outcome == "replied"}
        audit = await self.store.handoffs(key.phone_number_id, key.user, HISTORY)
        cards = await self.cards.all(conv) if self.cards is not None else {}

        def card(ids: list[str]) -> MediaCard | None:
            return next((cards[i] for i in ids if i in cards), None)

        lines = [Line(t.ts, t.role, t.text, who=author_of(t.ts, t.text, audit) if t.role == "human" else "",
                      trace=trace_view(traces[t.ts]) if t.role == "assistant" and t.ts in traces else None,
                      media=card(list(t.message_ids)) if t.role == "customer" else None)
                 for t in turns]
        stored = {mid for t in turns for mid in t.message_ids}
        for m in await self.inbox.recent_customer(conv):
            if m.get("id") not in stored:
                lines.append(Line(datetime.fromtimestamp(float(m["at"]), UTC), str(m.get("role") or "customer"),
                                  str(m.get("text") or ""), str(m.get("who") or ""), pending=True,
                                  media=card([str(m.get("id"))])))
        for h in audit:
            if h.action == "note":
                lines.append(Line(h.ts, "note", h.detail or "", h.actor.removeprefix("operator:")))
            elif h.action in ("taken", "released"):
                lines.append(Line(h.ts, "event", h.action, h.actor.removeprefix("operator:")))
            elif h.action == "requested":  # who asked is the customer; the reason says why
                lines.append(Line(h.ts, "event", h.action, h.reason or ""))
        lines.sort(key=lambda line: line.ts)
        return Conversation(row, lines)
