"""The raw webhook log: every accepted body, byte for byte, on `wa.webhooks.raw.v1`, and the parts of it ingress
could not read on that topic's DLQ. Pure: builds the records, `deps.publish_webhook` produces them.

- Raw record: key = the first `metadata.phone_number_id` in the body, else the first entry id (account-level
  fields carry no number); headers `received-at` (ISO 8601, UTC) and `signature-verified` ("true": only signed
  bodies get here). `wapipe reprocess` re-runs normalisation from these records.
- DLQ record of an unreadable part: the part's JSON as parsed, keyed like its change; the runtime's `dlq.*`
  headers (`dlq.original.*` point at the raw record holding the whole body) plus `webhook.path`,
  `webhook.field`, `webhook.part` and `received-at`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from schemas.meta import webhook as wh
from services.ingress.parts import UnreadablePart
from wapipe.runtime.dlq import dlq_headers

RECEIVED_AT = "received-at"
SIGNATURE_VERIFIED = "signature-verified"
SERVICE = "ingress"

Headers = list[tuple[str, bytes]]


@dataclass(frozen=True)
class Record:
    key: str | None
    value: bytes
    headers: Headers


class UnreadablePartError(ValueError):
    """The error a DLQ record of an unreadable part carries (`dlq.error.class` is the original cause's)."""


def raw_key(payload: wh.WebhookPayload) -> str | None:
    """The first business number the body names, else its first account id; None for a body with no entry."""
    first_entry = None
    for entry in payload.entry:
        if not isinstance(entry, wh.Entry):
            continue
        first_entry = first_entry or entry.id
        for change in entry.changes:
            if isinstance(change, wh.Change) and change.value.metadata is not None:
                return change.value.metadata.phone_number_id
    return first_entry


def raw_record(body: bytes, payload: wh.WebhookPayload, received_at: datetime) -> Record:
    return Record(raw_key(payload), body, [(RECEIVED_AT, received_at.isoformat().encode()),
                                           (SIGNATURE_VERIFIED, b"true")])


def received_at_of(headers: Headers) -> datetime | None:
    """When ingress received a raw record's body (its `received-at` header), None when missing or unreadable."""
    for name, value in headers:
        if name == RECEIVED_AT:
            try:
                return datetime.fromisoformat(value.decode())
            except (UnicodeDecodeError, ValueError):
                return None
    return None


def is_verified(headers: Headers) -> bool:
    return (SIGNATURE_VERIFIED, b"true") in headers


def dlq_record(part: UnreadablePart, raw: Record, *, raw_topic: str, partition: int, offset: int,
               received_at: datetime) -> Record:
    """The DLQ record of one unreadable part, pointing at the raw record (topic, partition, offset) it came from."""
    error = UnreadablePartError(f"{part.kind} at {part.path}: {part.error}")
    headers = dlq_headers([], error=error, attempts=1, topic=raw_topic, partition=partition, offset=offset,
                          service=SERVICE)
    headers = [(k, part.error_class.encode()) if k == "dlq.error.class" else (k, v) for k, v in headers]
    headers += [("webhook.path", part.path.encode()), ("webhook.part", part.kind.encode()),
                ("webhook.field", (part.field or "").encode()), (RECEIVED_AT, received_at.isoformat().encode())]
    return Record(part.key or raw.key, part.raw_bytes(), headers)
