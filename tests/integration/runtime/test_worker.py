"""The worker on the real broker: per-key order under concurrency, every record once, DLQ with its headers."""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from collections.abc import Callable, Sequence

from prometheus_client import CollectorRegistry

from schemas.envelope import Envelope
from schemas.events import MessageReceived, ReplyRequested
from schemas.topics import INBOUND, OUTBOUND, dlq_name
from tests.integration.runtime.echo_worker import echo
from tests.integration.runtime.inputs import produce
from tests.support import eventually, read_topic, unique
from wapipe.runtime import Emit, PermanentError, Producer, RecordMeta
from wapipe.runtime.config import WorkerConfig
from wapipe.runtime.worker import Worker

MakeProducer = Callable[..., Producer]


def _worker(make_producer: MakeProducer, bootstrap: str, prefix: str, group: str, handler,  # type: ignore[no-untyped-def]
            max_in_flight: int = 64, **kw) -> Worker:
    cfg = WorkerConfig(bootstrap=bootstrap, group_id=group, topics=(INBOUND,), topic_prefix=prefix,
                       service="test", max_in_flight=max_in_flight, **kw)
    return Worker(cfg, handler, producer=make_producer(prefix), registry=CollectorRegistry())


def _dlq_total(worker: Worker) -> float:
    return sum(s.value for m in worker.metrics.dlq.collect() for s in m.samples if s.name.endswith("_total"))


async def _run_until(worker: Worker, condition, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    task = asyncio.create_task(worker.run())
    try:
        await worker.wait_ready(30)
        deadline = asyncio.get_running_loop().time() + timeout
        while not condition():
            assert asyncio.get_running_loop().time() < deadline, "worker did not finish in time"
            assert not task.done(), f"worker died: {task.exception() if task.done() else ''}"
            await asyncio.sleep(0.05)
    finally:
        await worker.stop()
        await task


async def test_same_key_in_order_different_keys_concurrently(kafka_bootstrap: str, topic_prefix: str,
                                                             group_id: str, make_producer: MakeProducer) -> None:
    keys, per_key = 20, 200
    await asyncio.to_thread(produce, kafka_bootstrap, topic_prefix, unique("r"), keys, per_key)
    seen: dict[str, list[int]] = defaultdict(list)
    running: dict[str, int] = defaultdict(int)
    concurrent_peak = 0
    active = 0

    async def handle(event: Envelope, meta: RecordMeta) -> Sequence[Emit]:
        nonlocal active, concurrent_peak
        assert isinstance(event, MessageReceived)
        conv = event.conversation
        running[conv] += 1
        assert running[conv] == 1, "two records of one key ran at the same time"
        active += 1
        concurrent_peak = max(concurrent_peak, active)
        await asyncio.sleep(random.uniform(0, 0.01))
        active -= 1
        running[conv] -= 1
        seen[conv].append(int((event.payload.text or "0:0").split(":")[1]))
        return echo(event)

    worker = _worker(make_producer, kafka_bootstrap, topic_prefix, group_id, handle, max_in_flight=64)
    await _run_until(worker, lambda: sum(map(len, seen.values())) >= keys * per_key)

    assert len(seen) == keys
    for conv, order in seen.items():
        assert order == list(range(per_key)), f"{conv} out of order or repeated"
    assert 1 < concurrent_peak <= 64  # different keys really ran concurrently, within the bound
    outputs = await asyncio.to_thread(read_topic, kafka_bootstrap, topic_prefix + OUTBOUND, expect=keys * per_key,
                                      timeout=30)
    replies = [r.event() for r in outputs]
    assert len({e.payload.reply_id for e in replies if isinstance(e, ReplyRequested)}) == keys * per_key
    assert len(replies) == keys * per_key


async def test_failing_records_go_to_the_dlq_with_headers_and_others_proceed(
        kafka_bootstrap: str, topic_prefix: str, group_id: str, make_producer: MakeProducer) -> None:
    events = await asyncio.to_thread(produce, kafka_bootstrap, topic_prefix, unique("r"), 5, 10)
    poisoned = {e.correlation_id for e in events[::7]}
    permanent = {e.correlation_id for e in events[3::11]} - poisoned
    attempts: dict[str, int] = defaultdict(int)
    done: set[str] = set()

    async def handle(event: Envelope, meta: RecordMeta) -> Sequence[Emit]:
        attempts[event.correlation_id] += 1
        if event.correlation_id in poisoned:
            raise ValueError(f"cannot handle {event.payload.text}")
        if event.correlation_id in permanent:
            raise PermanentError("unknown tenant", emits=echo(event))
        done.add(event.correlation_id)
        return echo(event)

    # A poison pill without a valid envelope goes straight to the DLQ, without retries.
    raw = make_producer()
    await raw.send(topic_prefix + INBOUND, b"{not json", b"100000000000001:1", [("type", b"MessageReceived")])

    worker = _worker(make_producer, kafka_bootstrap, topic_prefix, group_id, handle, max_attempts=3,
                     backoff_base_s=0.01)
    expected_ok = len(events) - len(poisoned) - len(permanent)
    dlq_count = len(poisoned) + len(permanent) + 1
    await _run_until(worker, lambda: len(done) == expected_ok and _dlq_total(worker) >= dlq_count)

    dlq = await asyncio.to_thread(read_topic, kafka_bootstrap, topic_prefix + dlq_name(INBOUND), expect=dlq_count)
    assert len(dlq) == dlq_count
    by_class = defaultdict(list)
    for rec in dlq:
        h = rec.headers
        by_class[h["dlq.error.class"].decode()].append(rec)
        assert h["dlq.original.topic"] == (topic_prefix + INBOUND).encode()
        assert h["dlq.service"] == b"test"
        assert int(h["dlq.original.offset"]) >= 0 and h["dlq.original.partition"].isdigit()
        assert h["dlq.time"]
    assert len(by_class["ValueError"]) == len(poisoned)
    assert all(r.headers["dlq.attempts"] == b"3" for r in by_class["ValueError"])
    assert b"cannot handle" in by_class["ValueError"][0].headers["dlq.error.message"]
    assert len(by_class["PermanentError"]) == len(permanent)
    assert all(attempts[c] == 1 for c in permanent)
    assert len(by_class["ValidationError"]) == 1 and by_class["ValidationError"][0].value == b"{not json"
    assert done == {e.correlation_id for e in events} - poisoned - permanent
    # A permanent failure's own events (e.g. a ReplyFailed for the notifier) are still produced.
    outputs = await asyncio.to_thread(read_topic, kafka_bootstrap, topic_prefix + OUTBOUND,
                                      expect=len(done) + len(permanent))
    assert {r.event().correlation_id for r in outputs} == done | permanent


async def test_records_skipped_by_header_are_never_decoded_and_are_committed(
        kafka_bootstrap: str, topic_prefix: str, group_id: str, make_producer: MakeProducer) -> None:
    import confluent_kafka
    from confluent_kafka import TopicPartition

    from wapipe.runtime.skip import Skip

    events = await asyncio.to_thread(produce, kafka_bootstrap, topic_prefix, unique("s"), 10, 3)
    raw = make_producer()
    # Not an envelope at all: decoded, it would go to the DLQ; skipped, it is just done.
    for i in range(5):
        await raw.send(topic_prefix + INBOUND, b"{not json", f"100000000000001:{i}".encode(), [("type", b"Noise")])
    handled: list[str] = []

    async def handle(event: Envelope, meta: RecordMeta) -> Sequence[Emit]:
        handled.append(event.correlation_id)
        return []

    worker = _worker(make_producer, kafka_bootstrap, topic_prefix, group_id, handle,
                     skip=Skip(types=frozenset({"Noise"})))

    def skipped() -> float:
        return sum(s.value for m in worker.metrics.records.collect() for s in m.samples
                   if s.name.endswith("_total") and s.labels["outcome"] == "skipped")

    await _run_until(worker, lambda: len(handled) == len(events) and skipped() == 5)
    assert sorted(handled) == sorted(e.correlation_id for e in events) and _dlq_total(worker) == 0
    consumer = confluent_kafka.Consumer({"bootstrap.servers": kafka_bootstrap, "group.id": group_id})
    try:
        committed = await asyncio.to_thread(
            consumer.committed, [TopicPartition(topic_prefix + INBOUND, p) for p in range(12)], 30)
    finally:
        consumer.close()
    assert sum(max(tp.offset, 0) for tp in committed) == len(events) + 5  # the skipped ones are past too


async def test_a_record_is_handled_without_waiting_for_a_full_batch(
        kafka_bootstrap: str, topic_prefix: str, group_id: str, make_producer: MakeProducer) -> None:
    """Records come one at a time, each after the last was handled. A poll that waited for a whole batch (500
    records) would hold each for the full 5 s poll wait, so the three could not take less than 15 s."""
    from tests.integration.runtime.inputs import inbound

    run = unique("one")
    handled: list[int] = []

    async def handle(event: Envelope, meta: RecordMeta) -> Sequence[Emit]:
        assert isinstance(event, MessageReceived)
        handled.append(int((event.payload.text or "0:0").split(":")[1]))
        return []

    worker = _worker(make_producer, kafka_bootstrap, topic_prefix, group_id, handle, batch_size=500, poll_wait_s=5.0)
    producer = make_producer(topic_prefix)
    loop = asyncio.get_running_loop()
    task = asyncio.create_task(worker.run())
    try:
        await worker.wait_ready(30)

        async def one(seq: int, timeout: float) -> None:
            await producer.publish(Emit(INBOUND, inbound(run, 0, seq)))
            assert await eventually(lambda: seq in handled or task.done(), timeout=timeout, interval=0.01)
            assert seq in handled, f"record {seq} was not handled: {task.exception() if task.done() else ''}"

        await one(0, 60)  # the first fetch of a new assignment is not what this measures
        started = loop.time()
        for seq in (1, 2, 3):
            await one(seq, 60)
        assert loop.time() - started < 3 * 5.0, "each record waited for the poll's whole wait"
    finally:
        await worker.stop()
        await task
    assert handled == [0, 1, 2, 3]


async def test_a_redis_outage_is_waited_out_not_dead_lettered(kafka_bootstrap: str, topic_prefix: str,
                                                              group_id: str, make_producer: MakeProducer) -> None:
    import redis.exceptions

    events = await asyncio.to_thread(produce, kafka_bootstrap, topic_prefix, unique("o"), 2, 2)
    failures_left = {e.correlation_id: 6 for e in events}  # twice max_attempts: Redis down, then back
    done: set[str] = set()

    async def handle(event: Envelope, meta: RecordMeta) -> Sequence[Emit]:
        if failures_left[event.correlation_id]:
            failures_left[event.correlation_id] -= 1
            raise redis.exceptions.ConnectionError("Connection closed by server.")
        done.add(event.correlation_id)
        return []

    worker = _worker(make_producer, kafka_bootstrap, topic_prefix, group_id, handle, max_attempts=3,
                     backoff_base_s=0.01, backoff_max_s=0.05)
    await _run_until(worker, lambda: len(done) == len(events))
    assert _dlq_total(worker) == 0


async def test_a_wrong_redis_password_still_goes_to_the_dlq(kafka_bootstrap: str, topic_prefix: str,
                                                            group_id: str, make_producer: MakeProducer) -> None:
    import redis.exceptions

    events = await asyncio.to_thread(produce, kafka_bootstrap, topic_prefix, unique("a"), 1, 1)

    async def handle(event: Envelope, meta: RecordMeta) -> Sequence[Emit]:
        raise redis.exceptions.AuthenticationError("invalid username-password pair")

    worker = _worker(make_producer, kafka_bootstrap, topic_prefix, group_id, handle, max_attempts=2,
                     backoff_base_s=0.01, backoff_max_s=0.05)
    await _run_until(worker, lambda: _dlq_total(worker) >= len(events))


async def test_two_replicas_split_the_partitions_and_each_reports_only_its_own_lag(
        kafka_bootstrap: str, topic_prefix: str, group_id: str, make_producer: MakeProducer) -> None:
    await asyncio.to_thread(produce, kafka_bootstrap, topic_prefix, unique("split"), 60, 1)
    handled: list[int] = []

    async def handle(event: Envelope, meta: RecordMeta) -> Sequence[Emit]:
        handled.append(meta.partition)
        return []

    def lagged(worker: Worker) -> set[int]:
        return {int(s.labels["partition"]) for m in worker.metrics.lag.collect() for s in m.samples}

    async def until(condition: Callable[[], bool], what: str, timeout: float = 120.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not condition():
            assert asyncio.get_running_loop().time() < deadline, what
            await asyncio.sleep(0.2)

    first = _worker(make_producer, kafka_bootstrap, topic_prefix, group_id, handle)
    second = _worker(make_producer, kafka_bootstrap, topic_prefix, group_id, handle)
    tasks = [asyncio.create_task(first.run())]
    try:
        await first.wait_ready(30)
        await until(lambda: len(handled) == 60, "the first replica did not read every record")
        written = set(handled)
        await until(lambda: lagged(first) == written, "the first replica did not report its partitions' lag")
        tasks.append(asyncio.create_task(second.run()))
        await second.wait_ready(120)
        await until(lambda: bool(lagged(first)) and bool(lagged(second)) and not lagged(first) & lagged(second)
                    and lagged(first) | lagged(second) == written,
                    f"no clean split: {sorted(lagged(first))} / {sorted(lagged(second))}")
        assert len(handled) == 60  # nothing read twice across the rebalance: every offset was committed
    finally:
        for worker in (first, second):
            await worker.stop()
        await asyncio.gather(*tasks)
