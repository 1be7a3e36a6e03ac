"""The worker: one consumer, many records in flight, same key strictly in order, no-loss commits.

The consumer calls that wait (poll, close, the final synchronous commit) run on one dedicated thread; rebalance
callbacks run there too and hand work to the event loop with `run_coroutine_threadsafe`. The housekeeping between
two polls (asynchronous commits, pause and resume, cached watermarks) runs on the loop while that thread is idle,
so the consumer is never called from two threads at once. Records are processed as
asyncio tasks (see `process.py`); per partition, the committed offset only moves past a finished prefix.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import confluent_kafka
from confluent_kafka import TopicPartition
from prometheus_client import CollectorRegistry

from schemas.envelope import Envelope
from schemas.events import decode_event
from wapipe.kafka import client_config
from wapipe.runtime.config import WorkerConfig
from wapipe.runtime.metrics import RuntimeMetrics
from wapipe.runtime.offsets import PartitionOffsets
from wapipe.runtime.process import RecordProcessor
from wapipe.runtime.producer import Producer
from wapipe.runtime.types import Handler

log = logging.getLogger(__name__)
T = TypeVar("T")


class Worker:
    def __init__(self, config: WorkerConfig, handler: Handler, *, producer: Producer,
                 registry: CollectorRegistry | None = None,
                 decode: Callable[[bytes], Envelope] = decode_event) -> None:
        self.cfg = config
        self.metrics = RuntimeMetrics.for_registry(registry or CollectorRegistry())
        self.processor = RecordProcessor(config, handler, producer, self.metrics, decode)
        for topic in config.topics:  # a healthy worker's counters read 0, not "no data", on the dashboards
            self.metrics.retries.labels(config.service, topic)
            self.metrics.records.labels(config.service, topic, "ok")
        self._exec = ThreadPoolExecutor(1, thread_name_prefix=f"{config.service}-consumer")
        self._consumer: confluent_kafka.Consumer | None = None
        self._parts: dict[tuple[str, int], PartitionOffsets] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = asyncio.Event()
        self._assigned_once = asyncio.Event()
        self._paused = False
        self._last_poll = 0.0
        self._last_commit = 0.0
        self._last_lag = 0.0

    # ---- lifecycle -------------------------------------------------------------------------------------
    async def wait_ready(self, timeout: float = 30.0) -> None:
        await asyncio.wait_for(self._assigned_once.wait(), timeout)

    @property
    def ready(self) -> bool:
        return self._assigned_once.is_set() and time.monotonic() - self._last_poll < 10

    @property
    def alive(self) -> bool:
        return self._last_poll == 0.0 or time.monotonic() - self._last_poll < 60

    async def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._consumer = await self._call(self._create_consumer)
        try:
            while not self._stopping.is_set():
                msgs = await self._call(self._poll)
                self._last_poll = time.monotonic()
                for msg in msgs:
                    self._dispatch(msg)
                # On the loop, between two polls: nothing in it blocks (an asynchronous commit, pause or resume,
                # cached watermarks), and a hand-over to the consumer thread per poll cost more than the work.
                self._housekeeping(False)
            await self._drain(list(self._parts), self.cfg.drain_timeout_s)
            await self._call(self._housekeeping, True)
        finally:
            await self._call(self._consumer.close)
            self._exec.shutdown(wait=True)
            log.info("%s worker stopped", self.cfg.service)

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        assert self._loop is not None
        return await self._loop.run_in_executor(self._exec, fn, *args)

    # ---- consumer thread -------------------------------------------------------------------------------
    def _poll(self) -> list[confluent_kafka.Message]:
        """Up to `batch_size` records: waits up to `poll_wait_s` for the first, then `batch_wait_s` for more.

        `consume(n, timeout)` returns only when n records have arrived or the timeout has run out. Called alone
        with the poll's 100 ms, it held each record about 100 ms at every hop (`bench.runtime.hop`)."""
        assert self._consumer is not None
        first = self._consumer.poll(self.cfg.poll_wait_s)
        if first is None:
            return []
        if self.cfg.batch_size <= 1:
            return [first]
        return [first, *self._consumer.consume(self.cfg.batch_size - 1, self.cfg.batch_wait_s)]

    def _create_consumer(self) -> confluent_kafka.Consumer:
        conf = client_config(self.cfg.bootstrap, {
            "group.id": self.cfg.group_id,
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
            "session.timeout.ms": self.cfg.session_timeout_ms,
            "heartbeat.interval.ms": max(500, self.cfg.session_timeout_ms // 3),
            "max.poll.interval.ms": 300_000,
            # Tansu (the local and test broker) answers a fetch that finds nothing only when fetch.wait.max.ms
            # runs out: the 500 ms default added ~200 ms median per hop. Kafka wakes on data either way.
            "fetch.wait.max.ms": 50,
            **self.cfg.extra,
        })
        consumer = confluent_kafka.Consumer(conf)
        consumer.subscribe([self.cfg.topic_prefix + t for t in self.cfg.topics],
                           on_assign=self._on_assign, on_revoke=self._on_revoke, on_lost=self._on_revoke)
        return consumer

    def _on_assign(self, consumer: confluent_kafka.Consumer, partitions: list[TopicPartition]) -> None:
        for tp in partitions:
            self._parts[(tp.topic, tp.partition)] = PartitionOffsets()
        self._paused = False
        self.metrics.rebalances.labels(self.cfg.service, "assign").inc()
        log.info("%s assigned %d partitions", self.cfg.service, len(partitions))
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._assigned_once.set)

    def _on_revoke(self, consumer: confluent_kafka.Consumer, partitions: list[TopicPartition]) -> None:
        keys = [(tp.topic, tp.partition) for tp in partitions if (tp.topic, tp.partition) in self._parts]
        self.metrics.rebalances.labels(self.cfg.service, "revoke").inc()
        if not keys:
            return
        assert self._loop is not None
        # Finish (bounded) what is in flight for these partitions, then commit what is done.
        fut = asyncio.run_coroutine_threadsafe(self._drain(keys, self.cfg.drain_timeout_s), self._loop)
        try:
            fut.result(self.cfg.drain_timeout_s + 5)
        except Exception:  # the drain itself is bounded; a failure here must not kill the rebalance
            log.exception("draining revoked partitions failed")
        self._commit(keys, sync=True, consumer=consumer)
        for key in keys:
            state = self._parts.pop(key)
            state.revoked = True
            try:  # another replica reports this partition's lag now
                self.metrics.lag.remove(self.cfg.service, key[0][len(self.cfg.topic_prefix):], str(key[1]))
            except KeyError:  # revoked before its lag was first reported
                pass
        log.info("%s revoked %d partitions", self.cfg.service, len(keys))

    def _housekeeping(self, final: bool) -> None:
        now = time.monotonic()
        if final or now - self._last_commit >= self.cfg.commit_interval_s:
            self._commit(list(self._parts), sync=final)
            self._last_commit = now
        unfinished = sum(p.unfinished for p in self._parts.values())
        self.metrics.in_flight.labels(self.cfg.service).set(unfinished)
        assert self._consumer is not None
        assignment = [TopicPartition(t, p) for t, p in self._parts]
        bound = self.cfg.max_buffered or 4 * self.cfg.max_in_flight
        if not self._paused and unfinished >= bound and assignment:
            self._consumer.pause(assignment)
            self._paused = True
        elif self._paused and unfinished < max(1, bound // 2):
            self._consumer.resume(assignment)
            self._paused = False
        self.metrics.paused.labels(self.cfg.service).set(1 if self._paused else 0)
        if now - self._last_lag >= 5 or final:
            self._update_lag()
            self._last_lag = now

    def _commit(self, keys: list[tuple[str, int]], *, sync: bool,
                consumer: confluent_kafka.Consumer | None = None) -> None:
        consumer = consumer or self._consumer
        offsets = []
        for key in keys:
            state = self._parts.get(key)
            if state is not None and state.needs_commit():
                assert state.committable is not None
                offsets.append(TopicPartition(key[0], key[1], state.committable))
                state.last_committed = state.committable
        if not offsets or consumer is None:
            return
        try:
            if sync:
                consumer.commit(offsets=offsets, asynchronous=False)
            else:
                consumer.commit(offsets=offsets, asynchronous=True)
        except confluent_kafka.KafkaException as exc:  # committed again on the next round
            log.warning("offset commit failed: %s", exc)
            for tp in offsets:
                state = self._parts.get((tp.topic, tp.partition))
                if state is not None:
                    state.last_committed = None

    def _update_lag(self) -> None:
        assert self._consumer is not None
        for (topic, partition), state in self._parts.items():
            try:
                _, high = self._consumer.get_watermark_offsets(TopicPartition(topic, partition), cached=True)
            except confluent_kafka.KafkaException:
                continue
            if high is None or high < 0:
                continue
            position = state.committable if state.committable is not None else state.last_dispatched + 1
            name = topic[len(self.cfg.topic_prefix):]
            self.metrics.lag.labels(self.cfg.service, name, str(partition)).set(max(0, high - position))

    # ---- event loop ------------------------------------------------------------------------------------
    def _dispatch(self, msg: confluent_kafka.Message) -> None:
        err = msg.error()
        if err is not None:
            if err.code() != confluent_kafka.KafkaError._PARTITION_EOF:
                log.warning("consumer error: %s", err.str())
            return
        key = (msg.topic() or "", msg.partition() or 0)
        state = self._parts.get(key)
        offset = msg.offset() or 0
        if state is None or not state.track(offset):
            return  # not ours any more (revoked) or already in flight: the owner processes it
        self.processor.start(msg, on_done=lambda: state.done(offset))

    async def _drain(self, keys: list[tuple[str, int]], timeout: float) -> None:
        await self.processor.drain({k for k in keys}, timeout)
