"""Read a topic's records by direct partition assignment (no consumer group), between offsets or times.

Seeking by time uses `offsets_for_times`; a broker without time lookup answers 0 (Tansu) and we simply read from
there. Either way every record is then filtered on its own timestamp, so the result is the same on both.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition

from wapipe.kafka import Broker, client_config
from wapipe.topics import BrokerUnreachable


class TopicNotFound(LookupError):
    pass


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]
    timestamp_ms: int

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k == name:
                return v.decode("utf-8", "replace")
        return None

    @property
    def key_text(self) -> str | None:
        return None if self.key is None else self.key.decode("utf-8", "replace")


@dataclass(frozen=True)
class Selection:
    """Which records: from an offset (every partition) or a time, up to a time, of one conversation key."""

    from_offset: int | None = None
    since_ms: int | None = None
    until_ms: int | None = None
    conversation: str | None = None
    partitions: tuple[int, ...] = field(default=())

    def accepts(self, r: Record) -> bool:
        if self.since_ms is not None and r.timestamp_ms < self.since_ms:
            return False
        if self.until_ms is not None and r.timestamp_ms >= self.until_ms:
            return False
        return self.conversation is None or r.key_text == self.conversation


def _headers(raw: object) -> list[tuple[str, bytes]]:
    out: list[tuple[str, bytes]] = []
    for k, v in raw or []:  # type: ignore[attr-defined]
        out.append((str(k), v.encode() if isinstance(v, str) else (v or b"")))
    return out


def _consumer(broker: Broker) -> Consumer:
    return Consumer(client_config(broker, {
        "group.id": f"wapipe-replay-{uuid.uuid4().hex[:8]}", "enable.auto.commit": False,
        "enable.partition.eof": True, "log_level": 0, "socket.connection.setup.timeout.ms": 5000}))


def _start_offsets(c: Consumer, topic: str, parts: list[int], sel: Selection) -> list[TopicPartition]:
    if sel.from_offset is not None:
        return [TopicPartition(topic, p, sel.from_offset) for p in parts]
    if sel.since_ms is not None:
        try:
            found = c.offsets_for_times([TopicPartition(topic, p, sel.since_ms) for p in parts], timeout=10)
            # -1: nothing at or after that time in this partition; still read from the start to be safe on brokers
            # whose time index is approximate (the timestamp filter decides).
            return [TopicPartition(topic, tp.partition, tp.offset if tp.offset >= 0 else OFFSET_BEGINNING)
                    for tp in found]
        except KafkaException:
            pass
    return [TopicPartition(topic, p, OFFSET_BEGINNING) for p in parts]


def _nonempty(c: Consumer, topic: str, partition: int) -> bool:
    low, high = c.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
    return bool(high > low)


def partitions_of(broker: Broker, topic: str) -> list[int]:
    c = _consumer(broker)
    try:
        try:
            md = c.list_topics(topic, timeout=10)
        except KafkaException as exc:
            raise BrokerUnreachable(f"Kafka broker at {broker} is unreachable ({exc.args[0].str()})") from None
        t = md.topics.get(topic)
        if t is None or t.error is not None or not t.partitions:
            raise TopicNotFound(f"topic {topic} does not exist on {broker}")
        return sorted(t.partitions)
    finally:
        c.close()


def read(broker: Broker, topic: str, sel: Selection | None = None, *, idle_s: float = 2.0,
         timeout_s: float = 120.0) -> Iterator[Record]:
    """Yield the selected records until every partition reached its end (EOF), or nothing came for `idle_s`."""
    sel = sel or Selection()
    parts = list(sel.partitions) or partitions_of(broker, topic)
    c = _consumer(broker)
    try:
        # Skip partitions that hold nothing (low == high); even Tansu's approximate high watermark is 0 only then.
        parts = [p for p in parts if _nonempty(c, topic, p)]
        if not parts:
            return
        c.assign(_start_offsets(c, topic, parts, sel))
        pending = set(parts)
        deadline = time.monotonic() + timeout_s
        last = time.monotonic()
        while pending and time.monotonic() < deadline and time.monotonic() - last < idle_s:
            m = c.poll(0.2)
            if m is None:
                continue
            last = time.monotonic()
            err = m.error()
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    pending.discard(m.partition() or 0)
                continue
            key = m.key()
            r = Record(m.topic() or topic, m.partition() or 0, m.offset() or 0,
                       key.encode() if isinstance(key, str) else key, m.value() or b"",
                       _headers(m.headers()), m.timestamp()[1])
            if sel.accepts(r):
                yield r
    finally:
        c.close()
