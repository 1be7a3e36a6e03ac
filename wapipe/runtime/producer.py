"""An idempotent Kafka producer (acks=all) whose sends are awaitable delivery confirmations.

A background thread serves librdkafka's delivery reports (`poll`); the reports one poll serves reach each waiting
event loop in one hand-over (`call_soon_threadsafe` once per loop and poll, not once per record), and a report
served on its own loop's thread (a `flush` there) settles its future at once. Polling from the loops instead, every
millisecond while sends were in flight, cost more than it saved below ~100 records/s (docs/benchmarks.md).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterable, Sequence

import confluent_kafka

from schemas.events import encode_event
from schemas.topics import RAW_RECORD_MAX_BYTES
from wapipe.handover import Handed, hand_over, settle
from wapipe.kafka import Broker, client_config
from wapipe.runtime.types import Emit

log = logging.getLogger(__name__)


# Delivery errors after which this producer instance never writes again: a new one must take over.
RENEW_ON = frozenset({confluent_kafka.KafkaError.PRODUCER_FENCED, confluent_kafka.KafkaError.INVALID_PRODUCER_EPOCH})


class DeliveryFailed(RuntimeError):
    """The broker did not confirm a write (unreachable, timed out, or refused)."""


def event_headers(emit: Emit) -> list[tuple[str, bytes]]:
    """What a consumer can route on without decoding the value (`wapipe.runtime.skip`): type, version, ids,
    tenant, and the payload's `status` when it has one (a delivery status)."""
    e = emit.event
    headers = [
        ("type", e.type.encode()),
        ("version", str(e.version).encode()),
        ("event_id", e.event_id.encode()),
        ("correlation_id", e.correlation_id.encode()),
        ("tenant", e.tenant.encode()),
    ]
    status = getattr(e.payload, "status", None)
    if isinstance(status, str):
        headers.append(("status", status.encode()))
    return headers


class Producer:
    """Wraps confluent_kafka.Producer; a background thread serves delivery callbacks.

    `send` resolves when the broker confirmed the write, or raises DeliveryFailed after `delivery_timeout_s`.
    """

    def __init__(self, broker: Broker, *, topic_prefix: str = "", delivery_timeout_s: float = 10.0,
                 extra: dict[str, object] | None = None) -> None:
        self.topic_prefix = topic_prefix
        self.delivery_timeout_s = delivery_timeout_s
        self._config = client_config(broker, {
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 2,
            "message.timeout.ms": int(delivery_timeout_s * 1000),
            "socket.connection.setup.timeout.ms": 3000,
            # Room for a whole webhook body on the raw log (the topic allows it; other topics keep the broker's).
            "message.max.bytes": RAW_RECORD_MAX_BYTES + 64 * 1024,
            **(extra or {}),
            "error_cb": self._on_error,
        })
        self._fatal = threading.Event()
        self._renew_lock = threading.Lock()
        self._producer = confluent_kafka.Producer(self._config)
        self.renewals = 0
        self._closed = threading.Event()
        self._reports: list[Handed] = []  # served by a poll, not yet handed to their loops
        self._reports_lock = threading.Lock()
        self._poller = threading.Thread(target=self._poll_loop, name="kafka-producer-poll", daemon=True)
        self._poller.start()

    def _poll_loop(self) -> None:
        while not self._closed.is_set():
            self._producer.poll(0.1)
            self._hand_over()

    def _hand_over(self) -> None:
        """The reports served since the last hand-over, one call per waiting loop."""
        with self._reports_lock:
            reports, self._reports = self._reports, []
        if reports:
            hand_over(reports)

    def _on_error(self, err: confluent_kafka.KafkaError) -> None:
        if err.fatal() or err.code() in RENEW_ON:
            log.error("Kafka producer failed for good (%s); a new one takes over", err.str())
            self._fatal.set()

    def _renew(self) -> None:
        """An idempotent producer the broker fenced (its producer id or epoch taken over, e.g. after a stall of
        the broker) or whose error is fatal refuses every later write: replace it. Records still queued in the
        old one fail, and their callers retry them through the new one (deduplicated downstream by event id, as
        any redelivery)."""
        with self._renew_lock:
            if not self._fatal.is_set():
                return
            old, self._producer = self._producer, confluent_kafka.Producer(self._config)
            old.purge()
            old.poll(0)  # the purged records' callbacks: their senders see DeliveryFailed now, not at a timeout
            self._fatal.clear()
            self.renewals += 1

    async def send(self, topic: str, value: bytes, key: str | bytes | None = None,
                   headers: Sequence[tuple[str, bytes]] | None = None,
                   timestamp_ms: int | None = None) -> tuple[int, int]:
        """Produce one record (topic taken as given) and await the broker's confirmation -> (partition, offset).

        `timestamp_ms` sets the record's time (a re-published record keeping its original's); default: now."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[tuple[int, int]] = loop.create_future()

        def on_delivery(err: confluent_kafka.KafkaError | None, msg: confluent_kafka.Message) -> None:
            if err is not None:
                if err.fatal() or err.code() in RENEW_ON:
                    self._fatal.set()
                outcome: BaseException | tuple[int, int] = DeliveryFailed(f"{topic}: {err.str()}")
            else:
                outcome = (msg.partition() or 0, msg.offset() or 0)
            if asyncio._get_running_loop() is loop:  # served on the loop's own thread (a flush there): settle now
                settle(fut, outcome)
            else:
                with self._reports_lock:
                    self._reports.append((loop, fut, outcome))

        if self._fatal.is_set():
            self._renew()
        while True:
            try:
                self._producer.produce(topic, value=value, key=key, headers=list(headers or ()),
                                       on_delivery=on_delivery, timestamp=timestamp_ms or 0)
                break
            except BufferError:  # local queue full: let callbacks drain it
                await asyncio.sleep(0.01)
        try:
            return await asyncio.wait_for(fut, self.delivery_timeout_s + 2)
        except TimeoutError:
            raise DeliveryFailed(f"{topic}: no delivery confirmation in {self.delivery_timeout_s:.0f}s") from None

    async def publish(self, emit: Emit) -> tuple[int, int]:
        return await self.send(self.topic_prefix + emit.topic, encode_event(emit.event), emit.record_key,
                               event_headers(emit))

    async def publish_all(self, emits: Iterable[Emit]) -> None:
        """Produce all, then wait for every confirmation; raises if any failed."""
        results = await asyncio.gather(*(self.publish(e) for e in emits), return_exceptions=True)
        for r in results:
            if isinstance(r, BaseException):
                raise r

    def flush(self, timeout_s: float = 10.0) -> int:
        left = int(self._producer.flush(timeout_s))
        self._hand_over()  # the reports this flush served
        return left

    def close(self, timeout_s: float = 10.0) -> None:
        left = self.flush(timeout_s)
        if left:
            log.warning("producer closed with %d unconfirmed records", left)
        self._closed.set()
        self._poller.join(2)
