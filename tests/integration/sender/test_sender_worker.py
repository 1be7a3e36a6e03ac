"""The sender on the real runtime and broker: outcomes on wa.delivery.v1, DLQ, and exactly-once across a crash."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis
import uvicorn
from prometheus_client import CollectorRegistry

from schemas.events import ReplyFailed, ReplySent
from schemas.topics import DELIVERY, OUTBOUND, dlq_name
from services.ingress.app import create_app
from services.ingress.config import IngressSettings
from services.sender.app import build_app
from tests.integration.sender.conftest import open_window, reply, settings, sim_post
from tests.support import eventually, read_topic
from wapipe.runtime.producer import Producer
from wapipe.runtime.types import Emit
from wapipe.store import ConversationStore
from wapipe_tools.local.servers import free_port
from wapipe_tools.simulator.serve import BackgroundSimulator
from wapipe_tools.simulator.state import SimState

pytestmark = pytest.mark.slow


@pytest.fixture
def producer(kafka_bootstrap: str, topic_prefix: str) -> Iterator[Producer]:
    p = Producer(kafka_bootstrap, topic_prefix=topic_prefix)
    yield p
    p.close()


async def test_outcomes_reach_delivery_topic_and_dlq(
        sim: BackgroundSimulator, kafka_bootstrap: str, topic_prefix: str, group_id: str,
        redis_client: aioredis.Redis, store: ConversationStore, producer: Producer) -> None:
    users = ["573003330001", "573003330002", "573003330003"]
    for u in users:
        await open_window(redis_client, sim, u)
    await sim_post(sim, "/_sim/faults", {"kind": "code", "code": 131026, "to": users[2], "count": 1})
    normal, long_one, doomed = reply(users[0]), reply(users[1], "Texto largo. " * 800), reply(users[2])
    for ev in (normal, normal, long_one, doomed):  # `normal` delivered twice by the broker
        await producer.publish(Emit(OUTBOUND, ev))

    s = settings(sim, kafka_bootstrap_servers=kafka_bootstrap, topic_prefix=topic_prefix)
    app = build_app(s, redis=redis_client, store=store, producer=producer, registry=CollectorRegistry(),
                    group_id=group_id)
    task = asyncio.create_task(app.worker.run())
    try:
        await app.worker.wait_ready(30)
        out = await asyncio.to_thread(read_topic, kafka_bootstrap, topic_prefix + DELIVERY, expect=4, timeout=30)
        dlq = await asyncio.to_thread(read_topic, kafka_bootstrap, topic_prefix + dlq_name(OUTBOUND), expect=1)
    finally:
        await app.worker.stop()
        await task
        await app.aclose()

    events = [r.event() for r in out]
    sent = [e for e in events if isinstance(e, ReplySent)]
    failed = [e for e in events if isinstance(e, ReplyFailed)]
    expected = [normal.payload.reply_id] * 2 + [long_one.payload.reply_id]
    assert sorted(e.payload.reply_id for e in sent) == sorted(expected)
    assert [(e.payload.reply_id, e.payload.error_code) for e in failed] == [(doomed.payload.reply_id, 131026)]
    assert len(dlq) == 1 and dlq[0].event().event_id == doomed.event_id
    msgs = httpx.get(f"{sim.url}/_sim/messages").json()["messages"]
    assert Counter(m["to"] for m in msgs) == {users[0]: 1, users[1]: 3}


def _start_sender(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "services.sender"], env=env, cwd=Path(__file__).parents[3],
                            stdout=log.open("ab"), stderr=subprocess.STDOUT)


@pytest.fixture
def ingress_url(kafka_bootstrap: str, topic_prefix: str, redis_url: str, tmp_path: Path) -> Iterator[str]:
    """The real ingress app on a free port: the simulator's status webhooks reach wa.status.v1 through it."""
    s = IngressSettings(_env_file=None, kafka_bootstrap_servers=kafka_bootstrap,  # type: ignore[call-arg]
                        topic_prefix=topic_prefix, redis_url=redis_url,
                        store_url=f"sqlite:///{tmp_path}/ingress.db")  # its identity map
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(s), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}/webhook"
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def meta(ingress_url: str) -> Iterator[BackgroundSimulator]:
    with BackgroundSimulator(SimState(ingress_url=ingress_url, status_delay_s=0.05)) as s:
        yield s


async def test_sigkill_mid_stream_then_restart_sends_each_reply_exactly_once(
        meta: BackgroundSimulator, kafka_bootstrap: str, topic_prefix: str, group_id: str, redis_url: str,
        redis_client: aioredis.Redis, producer: Producer, tmp_path: Path) -> None:
    sim = meta
    users = [f"5730044{i:05d}" for i in range(8)]
    for u in users:
        await open_window(redis_client, sim, u)
    events = [reply(u, f"respuesta {n} para {u}", n=n) for n in range(5) for u in users]
    for ev in events:
        await producer.publish(Emit(OUTBOUND, ev))
    await sim_post(sim, "/_sim/faults", {"kind": "slow", "delay_s": 0.25})  # every send takes a while

    env = {**os.environ, "WAPIPE_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "WAPIPE_TOPIC_PREFIX": topic_prefix,
           "WAPIPE_REDIS_URL": redis_url, "WAPIPE_STORE_URL": f"sqlite:///{tmp_path}/wapipe.db",
           "WAPIPE_GRAPH_API_URL": sim.url, "WAPIPE_SENDER_METRICS_PORT": str(free_port()),
           "WAPIPE_SENDER_CONSUMER_GROUP": group_id, "WAPIPE_CLAIM_LEASE_S": "2", "WAPIPE_MARK_AS_READ": "false",
           "WAPIPE_BACKOFF_BASE_S": "0.05"}
    log = tmp_path / "sender.log"
    first = _start_sender(env, log)

    def delivered() -> list[dict[str, object]]:
        return list(httpx.get(f"{sim.url}/_sim/messages").json()["messages"])

    assert await eventually(lambda: len(delivered()) >= 8, timeout=90), log.read_text()[-2000:]
    first.send_signal(signal.SIGKILL)  # usually mid-stream; should this machine be slow, after the end
    first.wait(10)

    second = _start_sender(env, log)
    try:
        await eventually(lambda: len(delivered()) >= len(events), timeout=120)
        await asyncio.sleep(2)  # anything extra would show up now
    finally:
        second.send_signal(signal.SIGTERM)
        try:
            second.wait(30)
        except subprocess.TimeoutExpired:
            second.kill()
            second.wait()
    per_reply = Counter(str(m["biz_opaque_callback_data"]).rsplit(":", 1)[0] for m in delivered())
    assert per_reply == {ev.payload.reply_id: 1 for ev in events}, log.read_text()[-3000:]
    assert second.returncode == 0
    # Per conversation, the replies arrived in the order they were requested.
    for u in users:
        texts = [m["text"] for m in delivered() if m["to"] == u]
        assert texts == [f"respuesta {n} para {u}" for n in range(5)]
