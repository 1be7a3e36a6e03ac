"""Records a worker's handler does nothing with, told apart by their Kafka headers alone.

The producer writes each event's `type`, `tenant` and (when the payload has one) `status` as record headers
(`producer.event_headers`), so a worker drops a record it would only decode to ignore without decoding it: the
notifier reads every delivery status for the failures alone. A record without the headers (written before they
existed, or by another producer) is never skipped: it is decoded and handled as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Skip:
    """`types`: event types the handler returns nothing for, always. `unless`: per event type, the one header
    whose values the handler acts on; a record of that type with another value of that header is skipped."""

    types: frozenset[str] = frozenset()
    unless: Mapping[str, tuple[str, frozenset[bytes]]] = field(default_factory=dict)

    def __call__(self, headers: Mapping[str, bytes]) -> bool:
        raw = headers.get("type")
        if raw is None:
            return False
        kind = raw.decode("ascii", "replace")
        if kind in self.types:
            return True
        rule = self.unless.get(kind)
        if rule is None:
            return False
        value = headers.get(rule[0])
        return value is not None and value not in rule[1]
