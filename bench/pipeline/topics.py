"""What the broker carried during a run, per topic: records (from the high watermarks) and their mean size (key,
value and headers, from a sample), so the capacity model can say records/s and bytes/s per reply."""

from __future__ import annotations

from dataclasses import dataclass

import confluent_kafka
from confluent_kafka import TopicPartition

from schemas.topics import TOPICS


@dataclass(frozen=True)
class TopicLoad:
    records: int
    mean_bytes: float


def _size(msg: confluent_kafka.Message) -> int:
    headers = msg.headers() or []
    return len(msg.value() or b"") + len(msg.key() or b"") + sum(len(k) + len(v or b"") for k, v in headers)


def topic_loads(bootstrap: str, sample: int = 300, timeout_s: float = 20.0) -> dict[str, TopicLoad]:
    consumer = confluent_kafka.Consumer({"bootstrap.servers": bootstrap, "group.id": "bench-topic-loads",
                                         "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    out: dict[str, TopicLoad] = {}
    try:
        for t in TOPICS:
            parts = [TopicPartition(t.name, p, 0) for p in range(t.partitions)]
            records = sum(max(0, consumer.get_watermark_offsets(tp, timeout=timeout_s)[1]) for tp in parts)
            sizes: list[int] = []
            if records:
                consumer.assign(parts)
                while len(sizes) < min(sample, records):
                    batch = consumer.consume(min(500, sample), 2.0)
                    if not batch:
                        break
                    sizes += [_size(m) for m in batch if m.error() is None]
                consumer.unassign()
            out[t.name] = TopicLoad(records, sum(sizes) / len(sizes) if sizes else 0.0)
    finally:
        consumer.close()
    return out
