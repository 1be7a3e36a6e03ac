"""The contract between a service's handler and the runtime.

A handler gets one decoded event and where it came from, and returns the events to produce. It never talks to
Kafka itself: the runtime produces what it returns, waits for the broker's confirmation, and only then counts the
input record as done.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from schemas.envelope import Envelope


@dataclass(frozen=True)
class Emit:
    """One event to produce. `topic` is the registry name; the runtime applies the topic prefix."""

    topic: str
    event: Envelope
    key: str | None = None  # default: event.conversation

    @property
    def record_key(self) -> str:
        return self.key or self.event.conversation


@dataclass(frozen=True)
class RecordMeta:
    topic: str
    partition: int
    offset: int
    key: str | None
    timestamp_ms: int | None
    headers: dict[str, bytes] = field(default_factory=dict)
    attempt: int = 1


Handler = Callable[[Envelope, RecordMeta], Awaitable[Sequence[Emit]]]


class PermanentError(Exception):
    """Raised by a handler when retrying cannot help: the record goes straight to the DLQ.

    `emits` (e.g. a ReplyFailed that tells the notifier) are produced and confirmed before the DLQ write.
    """

    def __init__(self, message: str, emits: Sequence[Emit] = ()) -> None:
        super().__init__(message)
        self.emits = list(emits)
