"""The envelope every event travels in, and the trace that rides along with it."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any, NamedTuple, Self

from pydantic import BaseModel, ConfigDict, Field


def utcnow() -> datetime:
    return datetime.now(UTC)


def derive_id(*parts: object) -> str:
    """A deterministic id: a stage that runs twice derives the same ids from the same inputs."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()
    return digest[:32]


class MalformedConversationKey(ValueError):
    """A string that is not `"{phone_number_id}:{user}"`, or parts that cannot make one."""


class Conversation(NamedTuple):
    phone_number_id: str
    user: str


_SEPARATOR = ":"


def _masked(text: str) -> str:
    """`text` with every digit but the last four hidden: errors end up in logs and DLQ headers, phone numbers
    must not."""
    hidden = set([i for i, c in enumerate(text) if c.isdigit()][:-4])
    return "".join("*" if i in hidden else c for i, c in enumerate(text))


def _check(phone_number_id: str, user: str, what: str) -> None:
    if not (phone_number_id.isascii() and phone_number_id.isdigit()):
        raise MalformedConversationKey(f"{what}: the phone_number_id must be digits, got {_masked(phone_number_id)!r}")
    if not user:
        raise MalformedConversationKey(f"{what}: the user is empty")


def conversation_key(phone_number_id: str, user: str) -> str:
    """The Kafka key of every record: same conversation -> same partition -> order.

    `user` is the business-scoped user id when Meta sent one, else the wa_id; it may itself hold ':' (an
    /api/chat conversation id), the phone_number_id never does, so `parse_conversation_key` splits at the first.
    """
    _check(phone_number_id, user, "cannot make a conversation key")
    return f"{phone_number_id}{_SEPARATOR}{user}"


def parse_conversation_key(key: str) -> Conversation:
    """The inverse of `conversation_key`; a malformed key raises MalformedConversationKey (a ValueError)."""
    phone_number_id, sep, user = key.partition(_SEPARATOR)
    if not sep:
        raise MalformedConversationKey(f"{_masked(key)!r} is not a conversation key: expected "
                                       "'<phone_number_id>:<user>'")
    _check(phone_number_id, user, f"{_masked(key)!r} is not a conversation key")
    return Conversation(phone_number_id, user)


API_USER_PREFIX = "api:"


def api_user(conversation_id: str) -> str:
    """The user of a direct-channel (/api/chat) conversation: `api:<conversation_id>`, so its conversation key is
    `{tenant}:api:<conversation_id>`. No WhatsApp user can take this form (a WhatsApp id never holds ':'; ingress
    refuses one that does), so the direct channel can neither read nor write a WhatsApp customer's state."""
    return f"{API_USER_PREFIX}{conversation_id}"


def is_api_user(user: str) -> bool:
    return user.startswith(API_USER_PREFIX)


def is_whatsapp_user(user: str) -> bool:
    """A WhatsApp id (wa_id or BSUID) as Meta sends it: never empty, never with ':' (the namespace separator)."""
    return bool(user) and ":" not in user


class StageTiming(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stage: str
    started_at: datetime
    duration_s: float = Field(ge=0)


class Trace(BaseModel):
    """Decisions and timings appended by each stage; persisted by whoever ends the journey."""

    model_config = ConfigDict(extra="forbid")

    received_at: datetime | None = None
    decision_path: list[str] = Field(default_factory=list)
    route: str | None = None
    message_type: str | None = None
    intent: str | None = None
    llm_called: bool = False
    cache_hit: bool = False
    stages: list[StageTiming] = Field(default_factory=list)
    attrs: dict[str, str | int | float | bool | None] = Field(default_factory=dict)

    def step(self, decision: str) -> None:
        self.decision_path.append(decision)

    def timed(self, stage: str, started_at: datetime, ended_at: datetime | None = None) -> None:
        end = ended_at or utcnow()
        self.stages.append(
            StageTiming(stage=stage, started_at=started_at, duration_s=max(0.0, (end - started_at).total_seconds()))
        )


class Envelope(BaseModel):
    """Fields shared by every event; `type` and `payload` are fixed by each event class."""

    model_config = ConfigDict(extra="forbid")

    event_id: str = Field(min_length=1, max_length=128)
    type: str
    version: int = 1
    occurred_at: datetime = Field(default_factory=utcnow)
    tenant: str = Field(min_length=1, max_length=64, description="Meta phone_number_id of the business")
    conversation: str = Field(min_length=3, max_length=200, description="{phone_number_id}:{user}")
    correlation_id: str = Field(min_length=1, description="the inbound wamid that started the journey")
    causation_id: str | None = Field(default=None, description="event_id of the event that caused this one")
    trace: Trace = Field(default_factory=Trace)
    payload: Any

    def child_trace(self) -> Trace:
        """A copy of this event's trace for the event it causes."""
        return self.trace.model_copy(deep=True)

    def with_own_trace(self) -> Self:
        """A copy whose trace can be appended to without touching this event's, so a retried handler starts from
        the original. Only the trace is copied: the payload is shared, and handlers only read it (a deep copy of
        the whole event was about 8 % of guardrails' CPU samples under load)."""
        return self.model_copy(update={"trace": self.child_trace()})
