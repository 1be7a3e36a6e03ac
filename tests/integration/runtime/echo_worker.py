"""A worker process for the runtime tests: answers each MessageReceived with one ReplyRequested.

Run as `python -m tests.integration.runtime.echo_worker`; configured by environment variables. Every handled
record is appended to ECHO_LOG so tests can count how often each record was processed.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence

from prometheus_client import CollectorRegistry

from schemas.envelope import Envelope, derive_id
from schemas.events import MessageReceived, ReplyRequested, ReplyRequestedPayload, caused_by
from schemas.topics import INBOUND, OUTBOUND
from wapipe.logging import configure_logging
from wapipe.runtime import Emit, Producer, RecordMeta
from wapipe.runtime.config import WorkerConfig
from wapipe.runtime.service import Service, serve
from wapipe.runtime.worker import Worker


def echo(event: Envelope) -> list[Emit]:
    assert isinstance(event, MessageReceived)
    reply = caused_by(ReplyRequested, event, "echo", ReplyRequestedPayload(
        reply_id=derive_id(event.correlation_id, "echo", 0), to=event.payload.sender, kind="text",
        text=event.payload.text))
    return [Emit(OUTBOUND, reply)]


async def main() -> None:
    configure_logging("echo", level="WARNING")
    log_path = os.environ["ECHO_LOG"]
    delay = float(os.environ.get("ECHO_DELAY_S", "0"))
    registry = CollectorRegistry()
    producer = Producer(os.environ["WAPIPE_KAFKA_BOOTSTRAP_SERVERS"], topic_prefix=os.environ["WAPIPE_TOPIC_PREFIX"])
    out = open(log_path, "a", buffering=1)  # noqa: SIM115 - lives as long as the process

    async def handle(event: Envelope, meta: RecordMeta) -> Sequence[Emit]:
        if delay:
            await asyncio.sleep(delay)
        out.write(f"{event.correlation_id}\n")
        return echo(event)

    cfg = WorkerConfig(bootstrap=os.environ["WAPIPE_KAFKA_BOOTSTRAP_SERVERS"], group_id=os.environ["ECHO_GROUP"],
                       topics=(INBOUND,), topic_prefix=os.environ["WAPIPE_TOPIC_PREFIX"], service="echo",
                       max_in_flight=int(os.environ.get("ECHO_MAX_IN_FLIGHT", "256")))
    try:  # serve() installs the SIGTERM/SIGINT handling the tests exercise: stop, drain, commit, return
        await serve(Service("echo", [Worker(cfg, handle, producer=producer, registry=registry)]), registry=registry,
                    port=0, host="127.0.0.1")
    finally:
        producer.close()


if __name__ == "__main__":
    asyncio.run(main())
