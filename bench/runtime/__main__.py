"""Runtime throughput: the Worker vs a plain confluent-kafka poll loop, measured in the same run.

    .venv/bin/python -m bench.runtime [--records 20000] [--keys 1000] [--slow-records 5000]

Uses WAPIPE_KAFKA_BOOTSTRAP_SERVERS when set, else starts Tansu on a free port.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid
from collections.abc import Sequence

import confluent_kafka
from prometheus_client import CollectorRegistry

from schemas.envelope import Envelope
from schemas.topics import INBOUND, OUTBOUND
from tests.integration.runtime.echo_worker import echo
from tests.integration.runtime.inputs import produce
from wapipe.runtime import Emit, Producer, RecordMeta
from wapipe.runtime.config import WorkerConfig
from wapipe.runtime.worker import Worker
from wapipe.topics import create_topics, registry_specs
from wapipe_tools.local.servers import start_broker


def plain_loop(bootstrap: str, prefix: str, n: int, handler_s: float, budget_s: float) -> float:
    """One record at a time: poll, (sleep), produce, commit. Returns records/s."""
    c = confluent_kafka.Consumer({"bootstrap.servers": bootstrap, "group.id": uuid.uuid4().hex,
                                  "auto.offset.reset": "earliest", "enable.auto.commit": False,
                                  "session.timeout.ms": 6000, "log_level": 3})
    p = confluent_kafka.Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all",
                                  "log_level": 3})
    c.subscribe([prefix + INBOUND])
    done, start = 0, None
    try:
        while done < n:
            m = c.poll(0.5)
            if m is None or m.error():
                continue
            start = start or time.perf_counter()
            if handler_s:
                time.sleep(handler_s)
            p.produce(prefix + OUTBOUND, m.value(), m.key())
            p.poll(0)
            c.commit(message=m, asynchronous=True)
            done += 1
            if time.perf_counter() - start > budget_s:
                break
        p.flush(10)
    finally:
        c.close()
    return done / (time.perf_counter() - (start or time.perf_counter()))


async def worker_run(bootstrap: str, prefix: str, n: int, handler_s: float,
                     max_in_flight: int) -> tuple[float, float]:
    """Returns (records/s, peak RSS MiB of this process)."""
    finished = 0
    first: float | None = None

    async def handle(event: Envelope, meta: RecordMeta) -> Sequence[Emit]:
        nonlocal finished, first
        first = first or time.perf_counter()
        if handler_s:
            await asyncio.sleep(handler_s)
        finished += 1
        return echo(event)

    cfg = WorkerConfig(bootstrap=bootstrap, group_id=uuid.uuid4().hex, topics=(INBOUND,), topic_prefix=prefix,
                       service="bench", max_in_flight=max_in_flight)
    worker = Worker(cfg, handle, producer=Producer(bootstrap, topic_prefix=prefix), registry=CollectorRegistry())
    task = asyncio.create_task(worker.run())
    while finished < n:
        await asyncio.sleep(0.01)
    elapsed = time.perf_counter() - (first or time.perf_counter())
    await worker.stop()
    await task
    worker.processor.producer.close()
    return n / elapsed, _rss_mib()


def _rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def fresh(bootstrap: str, records: int, keys: int) -> str:
    prefix = f"bench{uuid.uuid4().hex[:8]}."
    create_topics(bootstrap, registry_specs(prefix, 12))
    produce(bootstrap, prefix, uuid.uuid4().hex[:6], keys, max(1, records // keys))
    return prefix


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=20000)
    ap.add_argument("--slow-records", type=int, default=5000)
    ap.add_argument("--keys", type=int, default=1000)
    args = ap.parse_args()
    server = None
    bootstrap = os.environ.get("WAPIPE_KAFKA_BOOTSTRAP_SERVERS")
    if not bootstrap:
        server = start_broker()
        bootstrap = server.address
    try:
        n = (args.records // args.keys) * args.keys
        base = plain_loop(bootstrap, fresh(bootstrap, n, args.keys), n, 0, 60)
        fast, rss = asyncio.run(worker_run(bootstrap, fresh(bootstrap, n, args.keys), n, 0, 1000))
        print(f"no-op handler, {n} records / {args.keys} keys")
        print(f"  plain poll loop          {base:9.0f} records/s")
        print(f"  worker (max_in_flight 1000) {fast:6.0f} records/s   ratio {fast / base:.2f}x"
              f"   peak RSS {rss:.0f} MiB")
        s = (args.slow_records // args.keys) * args.keys
        slow_base = plain_loop(bootstrap, fresh(bootstrap, s, args.keys), s, 1.0, 5)
        slow, rss = asyncio.run(worker_run(bootstrap, fresh(bootstrap, s, args.keys), s, 1.0, 1000))
        print(f"1 s async handler, {s} records / {args.keys} keys")
        print(f"  plain poll loop          {slow_base:9.2f} records/s")
        print(f"  worker (max_in_flight 1000) {slow:6.0f} records/s   ratio {slow / slow_base:.0f}x"
              f"   peak RSS {rss:.0f} MiB")
    finally:
        if server:
            server.stop()


if __name__ == "__main__":
    main()
