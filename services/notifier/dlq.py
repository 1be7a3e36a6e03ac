"""DLQ growth: the dead-letter topics' high watermarks, checked periodically against the last seen values.

The high watermark comes from fetch responses (`get_watermark_offsets(cached=True)` after polling from the end),
not from ListOffsets(latest), which some Kafka-protocol brokers (Tansu) report as the last batch's base offset + 1.
A consumer without a group (manual assignment, no commits) keeps fetching from the end, so the cached watermarks
stay current. Its calls run on one dedicated thread (the client is not thread-safe).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import confluent_kafka
from confluent_kafka import TopicPartition

from wapipe.kafka import Broker, client_config

log = logging.getLogger(__name__)


class DlqWatch:
    """Sum of the high watermarks of each DLQ topic (records ever written), by topic name without prefix."""

    def __init__(self, broker: Broker, topics: list[str], topic_prefix: str = "") -> None:
        self.broker = broker
        self.topics = topics
        self.prefix = topic_prefix
        self._exec = ThreadPoolExecutor(1, thread_name_prefix="notifier-dlq")
        self._consumer: confluent_kafka.Consumer | None = None
        self._assigned: list[TopicPartition] = []
        self._closed = False

    def _assign(self) -> None:
        self._consumer = confluent_kafka.Consumer(client_config(self.broker, {
            "group.id": f"wapipe-notifier-dlq-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False, "enable.auto.offset.store": False,
            "fetch.wait.max.ms": 100, "fetch.max.bytes": 1024 * 1024}))
        md = self._consumer.list_topics(timeout=5)
        parts = [TopicPartition(self.prefix + t, p, confluent_kafka.OFFSET_END)
                 for t in self.topics if self.prefix + t in md.topics
                 for p in md.topics[self.prefix + t].partitions]
        self._consumer.assign(parts)
        self._assigned = parts

    def _read(self, settle_s: float) -> dict[str, int]:
        if self._consumer is None:
            self._assign()
            settle_s = max(settle_s, 2.0)  # the first fetch responses (and their watermarks) take a moment
        assert self._consumer is not None
        deadline = time.monotonic() + settle_s
        while True:  # drain what arrived since the last check: each fetch response refreshes the watermarks
            msgs = self._consumer.consume(500, 0.1)
            if not msgs and time.monotonic() >= deadline:
                break
        totals: dict[str, int] = {}
        for tp in self._assigned:
            _, high = self._consumer.get_watermark_offsets(TopicPartition(tp.topic, tp.partition), cached=True)
            name = tp.topic[len(self.prefix):]
            if high is not None and high >= 0:
                totals[name] = totals.get(name, 0) + high
            else:
                totals.setdefault(name, 0)
        return totals

    async def totals(self, settle_s: float = 0.5) -> dict[str, int]:
        return await asyncio.get_running_loop().run_in_executor(self._exec, self._read, settle_s)

    def _close(self) -> None:
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await asyncio.get_running_loop().run_in_executor(self._exec, self._close)
        self._exec.shutdown(wait=True)
