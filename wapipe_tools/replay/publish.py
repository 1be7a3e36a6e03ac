"""Re-publish records: same key, value and headers, plus `replay.*` headers saying where each one came from."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from wapipe.kafka import Broker
from wapipe.runtime.producer import Producer
from wapipe_tools.replay.reader import Record

REPLAY_PREFIX = "replay."
BATCH = 200


def replay_headers(r: Record, *, reason: str, strip: tuple[str, ...] = ()) -> list[tuple[str, bytes]]:
    """Original headers (minus earlier replay.* and any `strip` prefixes) plus this replay's provenance."""
    drop = (REPLAY_PREFIX, *strip)
    kept = [(k, v) for k, v in r.headers if not k.startswith(drop)]
    return kept + [
        ("replay.source.topic", r.topic.encode()),
        ("replay.source.partition", str(r.partition).encode()),
        ("replay.source.offset", str(r.offset).encode()),
        ("replay.reason", reason.encode()),
        ("replay.time", datetime.now(UTC).isoformat().encode()),
    ]


async def republish(broker: Broker, records: Iterable[tuple[Record, str]], *, reason: str,
                    strip: tuple[str, ...] = (), on_done: Callable[[int], None] = lambda n: None) -> int:
    """Produce each (record, target topic) and wait for the broker's confirmation; returns how many."""
    producer = Producer(broker)
    sent = 0
    try:
        batch: list[tuple[Record, str]] = []

        async def flush() -> None:
            nonlocal sent
            await asyncio.gather(*(producer.send(t, r.value, r.key, replay_headers(r, reason=reason, strip=strip))
                                   for r, t in batch))
            sent += len(batch)
            on_done(len(batch))
            batch.clear()

        for item in records:
            batch.append(item)
            if len(batch) >= BATCH:
                await flush()
        if batch:
            await flush()
    finally:
        producer.close()
    return sent
