"""The ports every service uses to keep conversation turns, interaction traces and the handoff audit
(`ConversationStore`), the durable copy of the wa_id <-> user_id mapping (`IdentityStore`) and the operators'
API tokens (`OperatorTokenStore`); consent and the privacy operations have their own ports
(`wapipe.store.privacy`). Every backend implements them all (`Store`).

`user` is the user of the conversation key (`{phone_number_id}:{user}`): the customer's first id ever seen
(`wapipe.state.identity`); `tenant` is the phone_number_id. Conversation data expires after `RETENTION` (30 days);
the identity mapping is kept until it is erased, so a customer's key never changes while their ids do not;
operator tokens do not expire (they are revoked).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from schemas.envelope import Envelope
from wapipe.store.privacy import ConsentStore, PrivacyStore

RETENTION = timedelta(days=30)

Role = Literal["customer", "assistant", "human"]
IdKind = Literal["wa_id", "user_id"]


@dataclass(frozen=True)
class Turn:
    tenant: str
    user: str
    ts: datetime
    role: Role
    text: str
    message_ids: tuple[str, ...] = ()
    edited: bool = False  # the customer edited it: `text` is the edited text
    deleted: bool = False  # the customer deleted it: `text` is empty


@dataclass(frozen=True)
class IdentityLink:
    """One id of a customer (`kind` wa_id or user_id, `value`) and the user of their conversation key.

    A retired link is an id the customer gave up (a number change): what it sent up to `retired_at` (the change
    itself included) belongs to `user`, where the conversation moved; after it, the id is nobody's yet (a recycled
    number is a new person).
    """

    tenant: str
    kind: IdKind
    value: str
    user: str
    since: datetime
    retired_at: datetime | None = None

    def holds_at(self, at: datetime) -> bool:
        return self.retired_at is None or at <= self.retired_at


@dataclass(frozen=True)
class TraceRecord:
    """The finished journey of one inbound message (or one operator action)."""

    tenant: str
    conversation: str
    correlation_id: str
    ts: datetime
    outcome: str  # replied, duplicate, shadow, flood, failed, coalesced, ...
    route: str | None = None
    message_type: str | None = None
    intent: str | None = None
    decision_path: tuple[str, ...] = ()
    llm_called: bool = False
    cache_hit: bool = False
    stages: dict[str, float] = field(default_factory=dict)
    attrs: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_event(cls, event: Envelope, outcome: str, ts: datetime | None = None) -> TraceRecord:
        t = event.trace
        stages: dict[str, float] = {}
        for s in t.stages:
            stages[s.stage] = stages.get(s.stage, 0.0) + s.duration_s
        return cls(
            tenant=event.tenant, conversation=event.conversation, correlation_id=event.correlation_id,
            ts=ts or event.occurred_at, outcome=outcome, route=t.route, message_type=t.message_type,
            intent=t.intent, decision_path=tuple(t.decision_path), llm_called=t.llm_called,
            cache_hit=t.cache_hit, stages=stages, attrs=dict(t.attrs),
        )


@dataclass(frozen=True)
class HandoffEntry:
    tenant: str
    user: str
    ts: datetime
    action: str  # requested, taken, reply, released, relayed, notified
    actor: str  # guardrails, ai, operator:<name>, ...
    reason: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class OperatorToken:
    """An operator API token as stored: only its sha256 (`wapipe.access.hash_token`), never the token itself.

    `tenants` holds phone_number_ids, or `"*"` alone for every tenant (an admin token)."""

    token_id: str  # public handle (first 12 hex chars of the hash): listed, revoked by
    token_hash: str
    name: str
    tenants: frozenset[str]
    created_at: datetime
    revoked_at: datetime | None = None


class IdentityStore(Protocol):
    """The durable wa_id <-> user_id mapping per tenant (Redis caches it: `wapipe.state.identity`)."""

    async def link_identity(self, link: IdentityLink) -> IdentityLink:
        """Store `link` unless the id already has a link, or a retired one that still holds at `link.since` (the
        first one wins, also between processes racing); returns the link that holds."""
        ...

    async def set_identity(self, link: IdentityLink) -> None:
        """Store `link`, replacing the id's link (identity changes, two keys found to be one customer)."""
        ...

    async def identity(self, tenant: str, kind: IdKind, value: str) -> IdentityLink | None: ...

    async def identities_of(self, tenant: str, user: str) -> list[IdentityLink]:
        """Every id linked to `user`, retired ones included, oldest first."""
        ...


class StoreUnavailable(RuntimeError):
    """The backend cannot be reached or opened (Cassandra down, SQLite path not writable)."""


class ConversationStore(Protocol):
    """Async, never blocks the event loop. Reads return oldest first unless said otherwise.

    Reads that take a `limit`/`n` return the newest `limit` records (oldest first); `traces_between` returns the
    first `limit` records from `start` (inclusive) to `end` (exclusive). Expired records are never returned.
    Writes are idempotent: the same record written twice is stored once.
    """

    async def migrate(self) -> None: ...

    async def append_turn(self, turn: Turn) -> None: ...

    async def last_turns(self, tenant: str, user: str, n: int = 6) -> list[Turn]:
        """The newest `n` turns, oldest first, with the edits and deletions applied (the customer's, and those of
        a person of the business writing from the WhatsApp Business app)."""
        ...

    async def revise_turn(self, tenant: str, user: str, message_id: str, text: str | None, at: datetime) -> None:
        """The customer (or a person of the business, from the WhatsApp Business app) edited (`text`) or deleted
        (`None`) the message `message_id`: the customer and human turns that carry it (never the bot's) read back
        with the newest edit (`edited`), or with no text (`deleted`; a deletion is final).
        Recorded even when no turn carries the id yet, so a turn written later reads back revised too."""
        ...

    async def move_conversation(self, tenant: str, from_user: str, to_user: str) -> int:
        """Move the turns, revisions and handoff audit of `from_user` to `to_user` (the customer's identity
        changed), keeping each record's expiry; returns how many records moved. Idempotent."""
        ...

    async def write_trace(self, trace: TraceRecord) -> None: ...

    async def traces_by_conversation(self, tenant: str, conversation: str, limit: int = 50) -> list[TraceRecord]: ...

    async def traces_by_correlation(self, correlation_id: str) -> list[TraceRecord]: ...

    async def traces_between(self, tenant: str, start: datetime, end: datetime,
                             limit: int = 1000) -> list[TraceRecord]: ...

    async def append_handoff(self, entry: HandoffEntry) -> None: ...

    async def handoffs(self, tenant: str, user: str, limit: int = 50) -> list[HandoffEntry]: ...

    async def close(self) -> None: ...


class OperatorTokenStore(Protocol):
    """Operator API tokens by hash. Writes are idempotent; a revoked token stays listed with `revoked_at`."""

    async def add_operator_token(self, token: OperatorToken) -> None: ...

    async def operator_token(self, token_hash: str) -> OperatorToken | None:
        """The token with this hash, revoked or not; None when there is none."""
        ...

    async def operator_tokens(self) -> list[OperatorToken]:
        """Every token, oldest first."""
        ...

    async def revoke_operator_token(self, token_id: str, at: datetime) -> OperatorToken | None:
        """Mark the token revoked (an already revoked one keeps its first `revoked_at`); None for an unknown id."""
        ...


class Store(ConversationStore, IdentityStore, OperatorTokenStore, ConsentStore, PrivacyStore, Protocol):
    """What `open_store` returns: one backend behind every port."""
