"""The AI stage's ports: everything `handlers.py` reaches outside itself, as Protocols.

`app.py` wires the real adapters into `AIDeps`, and mypy checks each against its port there: the context cache over
the store (`wapipe.store.ContextCache`), the store itself for traces, the Redis answer cache (`cache.AnswerCache`),
the Redis spend ledger (`cost.SpendLedger`), the Redis coalescing buffer (`coalesce.PendingBuffer`), the cancel
marks of edited and deleted messages (`wapipe.state.answers.Answers`) and the model chain over the providers
(`chain.LLMChain`) and the tool box (`tools.ToolBox`). Unit tests pass in-memory fakes of these ports instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from services.ai.chain import ChainResult
from services.ai.cost import Reservation
from services.ai.prompt import Answer
from services.ai.providers import LLMRequest
from services.ai.tenant import TenantAI
from services.ai.toolspec import ToolCall, ToolResult, ToolSpec
from wapipe.store.port import TraceRecord, Turn


class ContextSource(Protocol):
    """The conversation's last turns, oldest first (the store behind a short-lived Redis cache)."""

    async def last_turns(self, tenant: str, user: str, n: int = 6) -> list[Turn]: ...


class TraceWriter(Protocol):
    """Where a journey that ends here (a coalesced request) leaves its trace: the conversation store."""

    async def write_trace(self, trace: TraceRecord) -> None: ...


class AnswerCachePort(Protocol):
    """Answers by cache key (`cache.cache_key`): the same question to the same knowledge, one model call."""

    async def get(self, key: str) -> Answer | None: ...

    async def put(self, key: str, answer: Answer) -> None: ...


class SpendPort(Protocol):
    """The tenant's model spend today (USD), shared by every replica. A call reserves its worst case against the
    daily cap before it runs, then settles to its real cost or releases the reservation."""

    async def spent_today(self, tenant: str) -> float: ...

    async def held_today(self, tenant: str) -> float: ...

    async def reserve(self, tenant: str, usd: float, cap_usd: float) -> Reservation | None:
        """Hold `usd` if spent + held + `usd` stays within `cap_usd`; None when it would not."""
        ...

    async def settle(self, hold: Reservation, conversation: str, usd: float) -> tuple[float, float]:
        """Replace the reservation by the real cost; returns (conversation total, tenant-day total)."""
        ...

    async def release(self, hold: Reservation) -> None: ...


class PendingMessage(Protocol):
    """One message guardrails buffered for the model (`pending:{conversation}`)."""

    @property
    def message_id(self) -> str: ...

    @property
    def text(self) -> str: ...


class CoalescePort(Protocol):
    """Burst coalescing: the pending messages of a conversation, who answered which, and answers by request."""

    async def memo(self, correlation_id: str) -> dict[str, Any] | None:
        """The emits already produced for this request (`{"emits": [{"topic", "event"}]}`), if it was answered."""
        ...

    async def covered_by(self, conversation: str, message_id: str) -> str | None:
        """The message id whose answer covered this message, if one did."""
        ...

    async def wait_quiet(self, conversation: str,
                         not_before: datetime | None) -> tuple[Sequence[PendingMessage], int]:
        """Wait for the burst to end; returns its messages (oldest first) and how many entries were read."""
        ...

    async def finish(self, conversation: str, read_count: int, covered: list[str], coverer: str,
                     correlation_id: str, memo: dict[str, Any]) -> None:
        """Record the answer: `covered` ids -> `coverer`, the read entries consumed, the memo kept."""
        ...


class CancelPort(Protocol):
    """Whether the customer deleted or edited a message before its answer went out (`wapipe.state.answers`)."""

    async def cancelled(self, tenant: str, message_id: str) -> str | None:
        """The reason (`revoked`, `edited`) when the message is not to be answered, else None."""
        ...


class ModelPort(Protocol):
    """The model: providers in order behind their breakers; `result` None when none could answer."""

    async def complete(self, req: LLMRequest) -> ChainResult: ...

    async def close(self) -> None: ...


class ToolPort(Protocol):
    """The tools a tenant's model is offered, and running one call (never raises: failures are results)."""

    def specs(self, t: TenantAI) -> tuple[ToolSpec, ...]: ...

    async def run(self, t: TenantAI, call: ToolCall, timeout_s: float) -> ToolResult: ...
