"""The producer's delivery reports, served by its poll thread and handed over to each waiting loop in batches:
every send is confirmed once, on the loop that awaits it, whichever loop or thread it was sent from."""

from __future__ import annotations

import asyncio
import threading

from tests.support import read_topic
from wapipe.runtime.producer import Producer

TOPIC = "wa.inbound.v1"


def test_concurrent_sends_are_each_confirmed_once(kafka_bootstrap: str, topic_prefix: str) -> None:
    producer = Producer(kafka_bootstrap)

    async def sends() -> list[tuple[int, int]]:
        return await asyncio.gather(*(producer.send(topic_prefix + TOPIC, f"v{i}".encode(), f"k{i % 7}".encode())
                                      for i in range(400)))

    try:
        written = asyncio.run(sends())
    finally:
        producer.close()
    assert len(set(written)) == 400  # 400 distinct (partition, offset): each record written once
    assert len(read_topic(kafka_bootstrap, topic_prefix + TOPIC, expect=400)) == 400


def test_one_producer_serves_one_loop_after_another(kafka_bootstrap: str, topic_prefix: str) -> None:
    """A producer outlives the loop it first sent from (a CLI's runs, a test's loops): the next loop's sends
    are confirmed too, not left to time out."""
    producer = Producer(kafka_bootstrap, delivery_timeout_s=5)

    async def burst(tag: str) -> None:
        await asyncio.gather(*(producer.send(topic_prefix + TOPIC, tag.encode(), f"{tag}{i}".encode())
                               for i in range(50)))

    try:
        for n in range(3):
            asyncio.run(burst(f"loop{n}-"))
    finally:
        producer.close()
    assert len(read_topic(kafka_bootstrap, topic_prefix + TOPIC, expect=150)) == 150


def test_a_send_from_another_thread_is_confirmed_on_its_own_loop(kafka_bootstrap: str, topic_prefix: str) -> None:
    producer = Producer(kafka_bootstrap, delivery_timeout_s=5)
    results: dict[str, object] = {}

    def in_thread(name: str) -> None:
        async def run() -> None:
            results[name] = await asyncio.gather(*(producer.send(topic_prefix + TOPIC, b"x", f"{name}{i}".encode())
                                                   for i in range(100)))
        asyncio.run(run())

    threads = [threading.Thread(target=in_thread, args=(f"t{i}",)) for i in range(2)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not any(t.is_alive() for t in threads)
    finally:
        producer.close()
    assert sorted(results) == ["t0", "t1"]
    assert all(len(v) == 100 for v in results.values())  # type: ignore[arg-type]
