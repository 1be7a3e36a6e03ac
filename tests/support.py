"""Helpers for tests against the real broker: read a topic without a consumer group, unique names."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from confluent_kafka import Consumer, TopicPartition

from schemas.events import Event, decode_event


@dataclass
class Record:
    topic: str
    partition: int
    offset: int
    key: str | None
    value: bytes
    headers: dict[str, bytes]
    timestamp_ms: int

    def event(self) -> Event:
        return decode_event(self.value)


def unique(prefix: str = "t") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def read_topic(bootstrap: str, topic: str, *, expect: int | None = None, timeout: float = 10.0,
               idle: float = 1.0) -> list[Record]:
    """Every record of `topic` from the beginning, by direct partition assignment (no group join).

    Stops once `expect` records arrived (then keeps reading for `idle` seconds to catch extras), or when the
    topic has been quiet for `idle` seconds, or at `timeout`.
    """
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("reader"), "enable.auto.commit": False,
                  "log_level": 3})
    try:
        md = c.list_topics(topic, timeout=5)
        parts = md.topics[topic].partitions if topic in md.topics else {}
        c.assign([TopicPartition(topic, p, 0) for p in parts])
        out: list[Record] = []
        deadline = time.monotonic() + timeout
        last = time.monotonic()
        reached_at: float | None = None
        while time.monotonic() < deadline:
            m = c.poll(0.1)
            now = time.monotonic()
            if m is None or m.error():
                if expect is None and now - last > idle:
                    break
                if reached_at is not None and now - reached_at > idle:
                    break
                continue
            last = now
            key = m.key()
            out.append(Record(m.topic() or topic, m.partition() or 0, m.offset() or 0,
                              key.decode() if isinstance(key, bytes) else key, m.value() or b"",
                              {k: (v or b"") for k, v in (m.headers() or [])}, m.timestamp()[1]))
            if expect is not None and len(out) >= expect and reached_at is None:
                reached_at = now
        return out
    finally:
        c.close()
