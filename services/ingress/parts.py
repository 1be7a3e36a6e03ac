"""What normalising one webhook delivery yields: events to publish, the parts that could not be read, and what
was seen (Meta's errors, fields, call events). Pure data, shared by `normalize` and the field handlers."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from schemas.meta import webhook as wh
from wapipe.runtime.types import Emit


@dataclass(frozen=True)
class Where:
    """The change being read: its entry (the WhatsApp Business Account), its place in the body and its field."""

    entry_id: str
    entry_time: datetime | None  # Meta's `entry.time`, when it is readable epoch seconds
    path: str  # entry[0].changes[1]
    field: str


@dataclass(frozen=True)
class UnreadablePart:
    """An entry, change, message or status that could not become an event: kept as parsed, with the reason."""

    path: str  # where in the body: entry[0].changes[1].value.messages[2]
    kind: str  # entry | change | message | status | echo
    field: str | None  # the change's field, when known
    key: str | None  # phone_number_id of the change, else the entry id; None: use the raw record's key
    raw: Any
    error: str
    error_class: str = "UnreadablePart"

    def raw_bytes(self) -> bytes:
        """The part's JSON as it was parsed from the body (compact, UTF-8, keys in their order)."""
        return json.dumps(self.raw, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass
class Normalized:
    emits: list[Emit] = field(default_factory=list)
    errors: list[wh.WebhookError] = field(default_factory=list)  # Meta `errors` (change, message, status)
    skipped: int = 0  # updates deliberately not turned into events (no sender, unknown status, ':' in an id)
    unreadable: list[UnreadablePart] = field(default_factory=list)
    fields: Counter[str] = field(default_factory=Counter)  # changes per `field`
    unknown_fields: set[str] = field(default_factory=set)  # fields no handler knows: accepted, counted, ignored
    calls: Counter[tuple[str, str]] = field(default_factory=Counter)  # (phone_number_id, event) of ignored calls
    # (phone_number_id, field, what) of coexistence fields accepted and not published (`echoes.IGNORED`)
    coexistence: Counter[tuple[str, str, str]] = field(default_factory=Counter)
