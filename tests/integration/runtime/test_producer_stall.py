"""The producer after the broker stalled: Tansu fences an idempotent producer whose writes timed out during a
long stall (PRODUCER_FENCED on every later write); the producer replaces itself and writes again."""

from __future__ import annotations

import asyncio
import signal
import time

from wapipe.runtime.producer import DeliveryFailed, Producer
from wapipe.topics import create_topics, registry_specs
from wapipe_tools.local.servers import free_port, start_broker

TOPIC = "wa.inbound.v1"


async def test_writes_resume_after_the_broker_was_stopped_for_longer_than_the_delivery_timeout() -> None:
    broker = start_broker(free_port())  # its own broker: the session's is never stopped under other tests
    producer: Producer | None = None
    try:
        await asyncio.to_thread(create_topics, broker.address, registry_specs(""), timeout_s=30)
        producer = Producer(broker.address, delivery_timeout_s=3)
        await producer.send(TOPIC, b"before", b"k")
        stop_writing = asyncio.Event()

        async def keep_writing() -> None:  # writes in flight while the broker stalls, as under load
            n = 0
            while not stop_writing.is_set():
                n += 1
                try:
                    await producer.send(TOPIC, b"during", f"k{n}".encode())
                except DeliveryFailed:
                    pass
                await asyncio.sleep(0.02)

        writer = asyncio.create_task(keep_writing())
        await asyncio.sleep(1)
        broker.process.send_signal(signal.SIGSTOP)
        await asyncio.sleep(8)  # longer than the delivery timeout: the stalled writes time out
        broker.process.send_signal(signal.SIGCONT)
        deadline = time.monotonic() + 90
        written = None
        while written is None:
            assert time.monotonic() < deadline, "no write succeeded after the broker came back"
            try:
                written = await producer.send(TOPIC, b"after", b"k")
            except DeliveryFailed:
                await asyncio.sleep(0.5)
        stop_writing.set()
        await writer
        # Once one write went through, the next ones do too (not a lucky one between failures).
        for i in range(20):
            await producer.send(TOPIC, b"after", f"a{i}".encode())
    finally:
        if producer is not None:
            producer.close(2)
        broker.stop()
