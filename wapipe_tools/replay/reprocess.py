"""Re-run ingress's normalisation over the raw webhook log and re-publish the events it yields.

The raw records hold the bodies exactly as Meta sent them and when they arrived (`received-at`), so the events
come out identical to the originals (same ids, same content) where the code has not changed, and corrected where
it has: guardrails' dedupe drops what was already handled. Customer events get their conversation key from the
same identity map as at the webhook, body after body (resolve, publish, then record replaced links), so keys and
identity moves come out as they did, or as they would have. Each event is produced with its raw record's time, so
time-based consumers (the notifier's relay window) see it when the body arrived. Nothing is written to the DLQ:
parts that still cannot be read are reported (the originals are in the DLQ already).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from schemas.events import encode_event
from services.ingress.body import NotAWebhook, read_payload
from services.ingress.normalize import normalize
from services.ingress.parts import UnreadablePart
from services.ingress.rawlog import is_verified, received_at_of
from services.ingress.resolve import IdentityResolver
from wapipe.kafka import Broker
from wapipe.runtime.producer import Producer, event_headers
from wapipe.runtime.types import Emit
from wapipe_tools.replay.reader import Record

BATCH = 200


@dataclass
class Reprocessed:
    bodies: int = 0  # raw records re-read
    unverified: int = 0  # records without `signature-verified: true`: never trusted, skipped
    not_webhooks: int = 0  # bodies that do not read as a webhook (they were never accepted that way)
    per_body: list[tuple[Record, list[Emit]]] = field(default_factory=list)  # in log order
    unreadable: list[tuple[UnreadablePart, Record]] = field(default_factory=list)

    @property
    def events(self) -> list[Emit]:
        return [e for _, emits in self.per_body for e in emits]

    def per_topic(self) -> Counter[str]:
        return Counter(e.topic for e in self.events)


def renormalise(records: Iterable[Record]) -> Reprocessed:
    out = Reprocessed()
    for r in records:
        if not is_verified(r.headers):
            out.unverified += 1
            continue
        received = received_at_of(r.headers) or datetime.fromtimestamp(r.timestamp_ms / 1000, UTC)
        try:
            payload = read_payload(r.value)
        except NotAWebhook:
            out.not_webhooks += 1
            continue
        out.bodies += 1
        result = normalize(payload, received)
        if result.emits:
            out.per_body.append((r, result.emits))
        out.unreadable += [(p, r) for p in result.unreadable]
    return out


def provenance(r: Record) -> list[tuple[str, bytes]]:
    return [("replay.source.topic", r.topic.encode()), ("replay.source.partition", str(r.partition).encode()),
            ("replay.source.offset", str(r.offset).encode()), ("replay.reason", b"reprocess"),
            ("replay.time", datetime.now(UTC).isoformat().encode())]


async def republish(broker: Broker, reprocessed: Reprocessed, *, prefix: str,
                    identities: IdentityResolver | None, on_done: Callable[[int], None] = lambda n: None) -> int:
    """Produce every body's events under `prefix`, body after body in log order (so per-key order holds), each
    body's confirmed before the next; with `identities`, keyed as the webhook keys them. Returns how many."""
    producer = Producer(broker)
    sent = 0
    try:
        for r, emits in reprocessed.per_body:
            resolved = await identities.resolve(emits) if identities is not None else None
            keyed = resolved.emits if resolved is not None else emits
            for start in range(0, len(keyed), BATCH):
                batch = keyed[start:start + BATCH]
                await asyncio.gather(*(producer.send(prefix + e.topic, encode_event(e.event), e.record_key,
                                                     event_headers(e) + provenance(r), timestamp_ms=r.timestamp_ms)
                                       for e in batch))
            if identities is not None and resolved is not None and resolved.replaced:
                await identities.commit(resolved)
            sent += len(keyed)
            on_done(len(keyed))
    finally:
        producer.close()
    return sent
