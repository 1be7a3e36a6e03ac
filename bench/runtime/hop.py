"""One Kafka hop's latency: from a record's confirmed write to a consumer's hands, one record at a time.

    .venv/bin/python -m bench.runtime.hop [--records 40] [--fetch-waits 50,20,10]

For each `fetch.wait.max.ms`, two ways of taking records: `consume(500, 0.1)` (what the worker did before
2026-12-02: it returns when 500 records have come or the 100 ms have run out) and the worker's `poll` first, then
what is already fetched (`consume(499, 0)`). Records are written 50-200 ms apart, so each finds the consumer
waiting. Uses WAPIPE_KAFKA_BOOTSTRAP_SERVERS when set, else starts Tansu on a free port.
"""

from __future__ import annotations

import argparse
import os
import random
import time
import uuid
from collections.abc import Callable

import confluent_kafka
from confluent_kafka.admin import AdminClient, NewTopic

from bench.common.calibrate import calibration_ms
from wapipe_tools.local.servers import start_broker

Take = Callable[[confluent_kafka.Consumer], list[confluent_kafka.Message]]
WAYS: dict[str, Take] = {
    "consume(500, 0.1)": lambda c: c.consume(500, 0.1),
    "poll, then consume(499, 0)": lambda c: [m, *c.consume(499, 0)] if (m := c.poll(0.1)) is not None else [],
}


def hop(bootstrap: str, fetch_wait_ms: int, take: Take, records: int) -> list[float]:
    """Seconds from each record's delivery report to the call that returned it (a new topic each time)."""
    topic = f"bench-hop-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 3})
    for future in admin.create_topics([NewTopic(topic, 1, 1)]).values():
        future.result(30)
    consumer = confluent_kafka.Consumer({
        "bootstrap.servers": bootstrap, "group.id": uuid.uuid4().hex, "auto.offset.reset": "earliest",
        "enable.auto.commit": False, "session.timeout.ms": 6000, "fetch.wait.max.ms": fetch_wait_ms,
        "log_level": 3})
    producer = confluent_kafka.Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, "log_level": 3})
    try:
        consumer.subscribe([topic])
        while not consumer.assignment():
            consumer.poll(0.1)
        producer.produce(topic, b"warm-up")
        producer.flush(30)
        deadline = time.monotonic() + 60
        while not take(consumer):  # the first fetch of the assignment
            assert time.monotonic() < deadline, "the warm-up record never came"
        took = []
        for _ in range(records):
            time.sleep(random.uniform(0.05, 0.2))
            producer.produce(topic, b"x")
            producer.flush(30)
            written = time.monotonic()
            while not take(consumer):
                pass
            took.append(time.monotonic() - written)
        return took
    finally:
        consumer.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=40)
    ap.add_argument("--fetch-waits", default="50,20,10", help="fetch.wait.max.ms values, comma-separated")
    args = ap.parse_args()
    bootstrap = os.environ.get("WAPIPE_KAFKA_BOOTSTRAP_SERVERS")
    server = None if bootstrap else start_broker()
    try:
        bootstrap = bootstrap or server.address  # type: ignore[union-attr]
        print(f"machine: sum(range(10**6)) in {calibration_ms()} ms (less is faster)", flush=True)
        print(f"{'fetch.wait.max.ms':>17}  {'how records are taken':<28} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7}")
        for wait in (int(w) for w in args.fetch_waits.split(",")):
            for name, take in WAYS.items():
                took = sorted(hop(bootstrap, wait, take, args.records))
                p50, p99 = took[len(took) // 2], took[min(len(took) - 1, int(len(took) * 0.99))]
                print(f"{wait:>17}  {name:<28} {p50 * 1000:7.1f} {p99 * 1000:7.1f} {took[-1] * 1000:7.1f}",
                      flush=True)
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
