"""Helpers for tests against the real broker: read a topic without a consumer group, unique names."""

from __future__ import annotations

import asyncio
import gc
import time
import uuid
from collections.abc import Callable
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


def release_kafka_clients() -> None:
    """Destroy, now, every Kafka client nothing of ours refers to any more.

    A librdkafka handle lives as long as its Python object: AdminClient has no close(), and our Producer's close()
    flushes and stops polling but leaves the handle to the garbage collector. Objects in reference cycles (FastAPI
    apps, workers, their readiness probes) wait for a full collection, and FastAPI keeps every endpoint it has
    classified in module-level caches (4096 entries in 0.165), which pins each app built by a test together with
    the producer and probe its endpoints close over. Whatever outlives its broker keeps reconnecting and prints
    `FAIL|rdkafka ... Connection refused` on stderr. So: forget those caches, collect, before a broker stops.
    """
    import fastapi.dependencies.models as classified  # only a cache of "is this callable async?" answers

    for value in vars(classified).values():
        if callable(getattr(value, "cache_clear", None)):
            value.cache_clear()
    gc.collect()


class ManualClock:
    """A clock for code that takes one (`clock=`): seconds move only when the test says. Steps that are binary
    fractions (0.5, 0.125) keep sums exact."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


async def eventually(check: Callable[[], bool], *, timeout: float = 60.0, interval: float = 0.05) -> bool:
    """Poll `check` until it holds or `timeout` passes; returns whether it held (assert on that). The deadline is
    generous on purpose: on a fast machine it costs nothing, on a busy one it is what keeps the test honest."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(interval)
    return True


def unique(prefix: str = "t") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def read_topic(bootstrap: str, topic: str, *, expect: int | None = None, timeout: float = 60.0,
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
