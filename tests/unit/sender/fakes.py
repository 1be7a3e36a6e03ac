"""In-memory fakes of the sender's own ports (`services/sender/ports.py`, `GraphPort`) and a reply builder.

`MemoryClaims` keeps the same bookkeeping as the Redis claims (`tests/integration/sender/test_claims_contract.py`
runs one suite against both). `FakeTime` stands in for the clock and the sleep, so waits happen instantly and the
tests can say how long the sender chose to wait.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from schemas.envelope import api_user, conversation_key, derive_id
from schemas.events import (
    Recipient,
    ReplyRequested,
    ReplyRequestedPayload,
    StatusReceived,
    StatusReceivedPayload,
    TemplateRef,
    TemplateStatusChangedPayload,
)
from services.sender.graph import GraphError
from services.sender.ports import Claim
from wapipe.apichat import ApiChatReply
from wapipe.state.consent import ConsentState
from wapipe.state.templates import TemplateState, template_key

PNID = "100000000000001"
USER = "573001112233"


def reply(text: str | None = "Hola, con gusto te ayudo.", *, user: str = USER, n: int = 0, kind: str = "text",
          **extra: Any) -> ReplyRequested:
    cid = f"wamid.in.{user}.{n}"
    extra.setdefault("in_reply_to", cid)
    # A direct-channel reply addresses the channel's own namespace (`api:<id>`), never a WhatsApp number.
    to = Recipient(user_id=api_user(user)) if extra.get("channel") == "api" else Recipient(wa_id=user)
    return ReplyRequested(
        event_id=derive_id(cid, "test"), tenant=PNID, conversation=conversation_key(PNID, to.user),
        correlation_id=cid, occurred_at=datetime(2026, 11, 18, 20, 0, tzinfo=UTC),
        payload=ReplyRequestedPayload(reply_id=derive_id(cid, "reply"), to=to,
                                      kind=kind, text=text, **extra))  # type: ignore[arg-type]


def status(send_id: str, wamid: str, state: str = "delivered", *, user: str = USER) -> StatusReceived:
    """Meta's status webhook for a message we sent, carrying our send id back."""
    at = datetime(2026, 11, 18, 20, 0, 5, tzinfo=UTC)
    return StatusReceived(
        event_id=derive_id("st", wamid, state), tenant=PNID, conversation=conversation_key(PNID, user),
        correlation_id=wamid, payload=StatusReceivedPayload(
            message_id=wamid, status=state, recipient=Recipient(wa_id=user), timestamp=at,  # type: ignore[arg-type]
            biz_opaque_callback_data=send_id))


def meta_error(code: int | None, http_status: int | None = 400, title: str = "scripted") -> GraphError:
    return GraphError(code, http_status, title)


@dataclass
class FakeGraph:
    """GraphPort: each message send takes the next scripted outcome (None accepts, a GraphError is raised); past
    the script every send is accepted. Read receipts are accepted unless `reads_fail`. `on_post` runs first."""

    script: list[GraphError | None] = field(default_factory=list)
    reads_fail: bool = False
    on_post: Callable[[dict[str, Any]], Awaitable[None]] | None = None
    posts: list[dict[str, Any]] = field(default_factory=list)  # every body, in call order
    accepted: list[dict[str, Any]] = field(default_factory=list)  # message bodies Meta took

    async def post(self, phone_number_id: str, body: dict[str, Any]) -> str | None:
        assert phone_number_id == PNID
        self.posts.append(body)
        if self.on_post is not None:
            await self.on_post(body)
        if body.get("status") == "read":
            if self.reads_fail:
                raise GraphError(None, 503, "scripted read failure")
            return None
        outcome = self.script.pop(0) if self.script else None
        if outcome is not None:
            raise outcome
        self.accepted.append(body)
        return f"wamid.out.{len(self.accepted)}"

    @property
    def sent_ids(self) -> list[str]:
        return [b["biz_opaque_callback_data"] for b in self.accepted]


class MemoryClaims:
    """ClaimsPort in memory: a lease holds the holder's token, a sent id holds "sent:<wamid>", a begun send leaves
    a doubt mark until it is marked sent or released. `expire` is the lease running out."""

    def __init__(self) -> None:
        self.keys: dict[str, str] = {}
        self.doubt: set[str] = set()

    async def claim(self, send_id: str, token: str) -> tuple[Claim, str | None]:
        v = self.keys.get(send_id)
        if v is not None:
            if v.startswith("sent:"):
                return "sent", v[5:]
            if v != token:
                return "busy", None
        self.keys[send_id] = token
        return ("doubt" if send_id in self.doubt else "claimed"), None

    async def begin(self, send_id: str) -> None:
        self.doubt.add(send_id)

    async def sent_wamid(self, send_id: str) -> str | None:
        v = self.keys.get(send_id)
        return v[5:] if v and v.startswith("sent:") else None

    async def mark_sent(self, send_id: str, wamid: str) -> None:
        self.keys[send_id] = f"sent:{wamid}"
        self.doubt.discard(send_id)

    async def confirm(self, send_id: str, wamid: str) -> None:
        self.keys[send_id] = f"sent:{wamid}"

    async def release(self, send_id: str, token: str) -> None:
        if self.keys.get(send_id) == token:
            del self.keys[send_id]
            self.doubt.discard(send_id)

    def expire(self, send_id: str) -> None:
        """The holder's lease ran out (it crashed): the id can be claimed again; a doubt mark stays."""
        v = self.keys.get(send_id)
        if v is not None and not v.startswith("sent:"):
            del self.keys[send_id]


@dataclass
class FakePacer:
    """PacingPort: `waits` are handed out by reserve in order (then 0); pauses are recorded."""

    waits: list[float] = field(default_factory=list)
    reserved: list[tuple[str, str]] = field(default_factory=list)
    pauses: list[tuple[str, str | None, float]] = field(default_factory=list)

    async def reserve(self, phone_number_id: str, user: str) -> float:
        self.reserved.append((phone_number_id, user))
        return self.waits.pop(0) if self.waits else 0.0

    async def pause(self, phone_number_id: str, user: str | None, seconds: float) -> None:
        self.pauses.append((phone_number_id, user, seconds))


@dataclass
class FakeWindow:
    """WindowPort: open for the conversations in `open`."""

    open: set[str] = field(default_factory=set)
    asked: list[str] = field(default_factory=list)
    last: dict[str, datetime] = field(default_factory=dict)  # conversation -> the customer's last message

    async def is_open(self, conversation: str, now: datetime | None = None) -> bool:
        self.asked.append(conversation)
        return conversation in self.open

    async def last_inbound(self, conversation: str) -> datetime | None:
        return self.last.get(conversation)


@dataclass
class FakeConsent:
    """ConsentPort: the customers in `out` opted out at the time given."""

    out: dict[str, datetime] = field(default_factory=dict)

    async def state(self, tenant: str, user: str) -> ConsentState:
        since = self.out.get(user)
        return ConsentState("opted_out", since) if since else ConsentState("opted_in")


@dataclass
class FakeTemplates:
    """TemplatePort: what is known of each template of each account is set by the test (`known`); webhooks
    handed to `record` are kept in `recorded`. (How webhooks become state is `TemplateStates`' own contract,
    tested on Redis.)"""

    known: dict[tuple[str, str, str], TemplateState] = field(default_factory=dict)  # (account, name, lang key)
    recorded: list[TemplateStatusChangedPayload] = field(default_factory=list)
    asked: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)

    def set(self, account: str, template: TemplateRef, state: TemplateState) -> None:
        self.known[(account, *template_key(template.name, template.language))] = state

    async def record(self, change: TemplateStatusChangedPayload) -> bool:
        self.recorded.append(change)
        return True

    async def states(self, account: str, templates: Sequence[TemplateRef]) -> dict[tuple[str, str], TemplateState]:
        self.asked.append((account, tuple(t.name for t in templates)))
        keys = [template_key(t.name, t.language) for t in templates]
        return {k: self.known[(account, *k)] for k in keys if (account, *k) in self.known}


@dataclass
class FakeTime:
    """A monotonic clock that only moves when the code sleeps; `on_sleep` lets the world change meanwhile."""

    now: float = 1000.0
    slept: list[float] = field(default_factory=list)
    on_sleep: Callable[[float], Awaitable[None]] | None = None
    horizon_s: float = 3600.0  # a wait loop that never ends fails the test instead of hanging it

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        assert self.now - 1000.0 < self.horizon_s, f"waited more than {self.horizon_s:.0f} s of fake time"
        if self.on_sleep is not None:
            await self.on_sleep(seconds)


@dataclass
class ApiReplies:
    """The /api/chat hand-back: what the waiting request would receive."""

    pushed: list[tuple[str, ApiChatReply]] = field(default_factory=list)

    async def __call__(self, correlation_id: str, reply: ApiChatReply) -> None:
        self.pushed.append((correlation_id, reply))


class MemoryAnswers:
    """AnswersPort: `wapipe.state.answers` in memory (`cancelled` as guardrails would leave it)."""

    def __init__(self) -> None:
        self.cancelled: dict[str, str] = {}
        self.answered: set[str] = set()

    async def begin(self, tenant: str, message_ids: list[str]) -> str | None:
        live = [m for m in message_ids if m not in self.cancelled]
        if message_ids and not live:
            return self.cancelled[message_ids[-1]]
        self.answered.update(live)
        return None
