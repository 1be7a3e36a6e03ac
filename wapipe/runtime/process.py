"""Processing one record: wait for the previous record of the same key, run the handler with bounded retries,
produce its outputs (confirmed), or send the record to the DLQ. Never drops a record silently."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable

import confluent_kafka
import redis.exceptions

from schemas.envelope import Envelope
from wapipe.logging import bound_correlation
from wapipe.runtime.config import WorkerConfig
from wapipe.runtime.dlq import dlq_headers, dlq_topic
from wapipe.runtime.metrics import RuntimeMetrics
from wapipe.runtime.producer import DeliveryFailed, Producer
from wapipe.runtime.types import Handler, PermanentError, RecordMeta

log = logging.getLogger(__name__)

PartitionKey = tuple[str, int]


class RecordProcessor:
    def __init__(self, cfg: WorkerConfig, handler: Handler, producer: Producer, metrics: RuntimeMetrics,
                 decode: Callable[[bytes], Envelope]) -> None:
        self.cfg = cfg
        self.handler = handler
        self.producer = producer
        self.metrics = metrics
        self.decode = decode
        self._slots = asyncio.Semaphore(cfg.max_in_flight)
        self._tails: dict[bytes, asyncio.Task[None]] = {}
        self._tasks: dict[PartitionKey, set[asyncio.Task[None]]] = {}

    def start(self, msg: confluent_kafka.Message, on_done: Callable[[], None]) -> None:
        topic, partition = msg.topic() or "", msg.partition() or 0
        if self.cfg.skip is not None and self.cfg.skip(dict(record_headers(msg))):
            # Nothing to do for it, so nothing to wait for: done now (commits still stop at unfinished records).
            self.metrics.records.labels(self.cfg.service, self._name(topic), "skipped").inc()
            on_done()
            return
        # Unkeyed records keep partition order.
        key = msg.key() or f"\x00partition:{partition}".encode()
        key = key if isinstance(key, bytes) else str(key).encode()
        previous = self._tails.get(key)
        task = asyncio.create_task(self._run(msg, previous, on_done))
        self._tails[key] = task
        tasks = self._tasks.setdefault((topic, partition), set())
        tasks.add(task)

        def _forget(t: asyncio.Task[None]) -> None:
            tasks.discard(t)
            if self._tails.get(key) is t:
                del self._tails[key]

        task.add_done_callback(_forget)

    async def drain(self, keys: set[PartitionKey], timeout: float) -> None:
        """Wait (bounded) for the records of these partitions; abandon what is still running after that."""
        pending = [t for k in keys for t in self._tasks.get(k, ())]
        if not pending:
            return
        done, still = await asyncio.wait(pending, timeout=timeout)
        for t in still:
            t.cancel()  # not marked done, so not committed: the next owner processes it again
        if still:
            log.warning("%s abandoned %d in-flight records after %.0fs", self.cfg.service, len(still), timeout)
            await asyncio.gather(*still, return_exceptions=True)

    async def _run(self, msg: confluent_kafka.Message, previous: asyncio.Task[None] | None,
                   on_done: Callable[[], None]) -> None:
        if previous is not None:
            await asyncio.gather(previous, return_exceptions=True)
        async with self._slots:
            started = time.perf_counter()
            outcome = await self._process(msg)
            name = self._name(msg.topic() or "")
            self.metrics.duration.labels(self.cfg.service, name).observe(time.perf_counter() - started)
            self.metrics.records.labels(self.cfg.service, name, outcome).inc()
        on_done()

    def _name(self, topic: str) -> str:
        return topic[len(self.cfg.topic_prefix):] if topic.startswith(self.cfg.topic_prefix) else topic

    async def _process(self, msg: confluent_kafka.Message) -> str:
        value = msg.value() or b""
        try:
            event = self.decode(value)
        except Exception as exc:  # undecodable: retrying cannot help
            await self._to_dlq(msg, exc, attempts=0)
            return "dlq"
        headers = dict(record_headers(msg))
        attempt = outages = 0
        started = time.monotonic()
        while True:
            attempt += 1
            meta = RecordMeta(msg.topic() or "", msg.partition() or 0, msg.offset() or 0,
                              _text(msg.key()), msg.timestamp()[1], headers, attempt)
            try:
                with bound_correlation(event.correlation_id):
                    emits = await self.handler(event, meta)
                    await self._publish(emits)
                return "ok"
            except PermanentError as exc:
                await self._publish(exc.emits)
                await self._to_dlq(msg, exc, attempt)
                return "dlq"
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if outage(exc) and time.monotonic() - started < self.cfg.outage_wait_s:
                    # Redis restarting (a failover, a killed pod) is waited out like the broker, not counted
                    # against the record: five quick attempts would otherwise dead-letter it within seconds.
                    attempt -= 1
                    outages += 1
                    log.warning("%s waiting for Redis: %s", self.cfg.service, exc)
                    self.metrics.retries.labels(self.cfg.service, self._name(meta.topic)).inc()
                    await asyncio.sleep(self._backoff(min(outages, 6)))
                    continue
                if attempt >= self.cfg.max_attempts:
                    log.error("%s giving up on %s[%d]@%d after %d attempts: %s", self.cfg.service,
                              self._name(meta.topic), meta.partition, meta.offset, attempt, exc)
                    await self._to_dlq(msg, exc, attempt)
                    return "dlq"
                self.metrics.retries.labels(self.cfg.service, self._name(meta.topic)).inc()
                await asyncio.sleep(self._backoff(attempt))

    async def _publish(self, emits: object) -> None:
        """Produce the handler's outputs; a broker outage is waited out, not counted as a handler failure."""
        items = list(emits) if emits else []  # type: ignore[call-overload]
        delay = self.cfg.backoff_base_s
        while True:
            try:
                await self.producer.publish_all(items)
                return
            except DeliveryFailed as exc:
                log.warning("%s waiting for the broker: %s", self.cfg.service, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.cfg.backoff_max_s)

    def _backoff(self, attempt: int) -> float:
        cap = min(self.cfg.backoff_max_s, self.cfg.backoff_base_s * 2 ** (attempt - 1))
        return random.uniform(cap / 2, cap)  # jitter spreads retries of many records

    async def _to_dlq(self, msg: confluent_kafka.Message, error: BaseException, attempts: int) -> None:
        topic, partition, offset = msg.topic() or "", msg.partition() or 0, msg.offset() or 0
        headers = dlq_headers(record_headers(msg), error=error, attempts=attempts, topic=topic,
                              partition=partition, offset=offset, service=self.cfg.service)
        delay = self.cfg.backoff_base_s
        while True:  # the DLQ write must be confirmed before the record counts as done
            try:
                await self.producer.send(dlq_topic(topic), msg.value() or b"", msg.key(), headers)
                break
            except DeliveryFailed as exc:
                log.warning("%s DLQ write failed, retrying: %s", self.cfg.service, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.cfg.backoff_max_s)
        self.metrics.dlq.labels(self.cfg.service, self._name(topic), type(error).__name__).inc()
        log.warning("%s sent %s[%d]@%d to the DLQ: %s: %s", self.cfg.service, self._name(topic), partition,
                    offset, type(error).__name__, str(error)[:200])


def outage(exc: BaseException) -> bool:
    """Redis unreachable or gone mid-command (not refused: a wrong password is an AuthenticationError)."""
    return isinstance(exc, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError) \
        and not isinstance(exc, redis.exceptions.AuthenticationError)


def record_headers(msg: confluent_kafka.Message) -> list[tuple[str, bytes]]:
    raw = msg.headers() or []
    items = raw.items() if isinstance(raw, dict) else raw
    return [(k, v if isinstance(v, bytes) else (v or "").encode()) for k, v in items]


def _text(key: bytes | str | None) -> str | None:
    if key is None:
        return None
    return key.decode("utf-8", "replace") if isinstance(key, bytes) else key
