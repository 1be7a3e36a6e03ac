"""The AI service on the real broker, Redis and stream runtime, answering through the simulator over HTTP."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry

from schemas.events import ReplyRequested
from schemas.topics import AI_REQUESTS, OUTBOUND
from services.ai.app import build_app
from services.ai.config import AISettings
from tests.fakes.store import MemoryStore
from tests.support import eventually, read_topic, unique
from tests.unit.ai.fixtures import TENANT, Tenants, request, soon
from wapipe.runtime.producer import Producer
from wapipe.runtime.types import Emit
from wapipe.state.pending import PendingMessages
from wapipe_tools.simulator.serve import BackgroundSimulator


async def _run_service(kafka_bootstrap: str, topic_prefix: str, redis_client: Any, sim: BackgroundSimulator,
                       store: MemoryStore, body: Callable[[Producer], Any]) -> None:
    s = AISettings(kafka_bootstrap_servers=kafka_bootstrap, topic_prefix=topic_prefix, openai_base_url=f"{sim.url}/v1",
                   openai_api_key="dev-openai-key", coalesce_window_s=1.0, coalesce_max_wait_s=3.0)
    producer = Producer(kafka_bootstrap, topic_prefix=topic_prefix)
    app = build_app(s, redis=redis_client, tenants=Tenants(TENANT), context=store, traces=store,
                    producer=producer, registry=CollectorRegistry(), group_id=unique("g"))
    task = asyncio.create_task(app.worker.run())
    try:
        await app.worker.wait_ready(30)
        await body(producer)
    finally:
        await app.worker.stop()
        await task
        await app.handler.d.chain.close()
        producer.close()


async def test_concurrent_conversations_keep_their_own_order(
        kafka_bootstrap: str, topic_prefix: str, redis_client: Any, sim: BackgroundSimulator,
        set_llm: Callable[..., None]) -> None:
    set_llm(latency_s=0.2)
    users = [unique("u") for _ in range(8)]
    sent = [request(f"pregunta {i} de la cliente {u}", user=u) for i in range(3) for u in users]

    async def body(producer: Producer) -> None:
        for ev in sent:
            await producer.publish(Emit(AI_REQUESTS, ev))

    await _run_service(kafka_bootstrap, topic_prefix, redis_client, sim, MemoryStore(), lambda p: _then_wait(
        body(p), kafka_bootstrap, topic_prefix + OUTBOUND, len(sent)))
    records = read_topic(kafka_bootstrap, topic_prefix + OUTBOUND, expect=len(sent))
    assert len(records) == len(sent)
    by_conversation: dict[str, list[str]] = defaultdict(list)
    for r in sorted(records, key=lambda r: (r.partition, r.offset)):
        ev = r.event()
        assert isinstance(ev, ReplyRequested) and r.key == ev.conversation
        by_conversation[ev.conversation].append(ev.payload.in_reply_to or "")
    for u in users:
        mine = [ev for ev in sent if ev.payload.to.wa_id == u]
        assert by_conversation[mine[0].conversation] == [ev.payload.message_id for ev in mine]


async def _then_wait(coro: Any, bootstrap: str, topic: str, n: int) -> None:
    await coro
    await asyncio.to_thread(read_topic, bootstrap, topic, expect=n, idle=0.5)


async def test_three_messages_within_one_second_get_one_answer(
        kafka_bootstrap: str, topic_prefix: str, redis_client: Any, sim: BackgroundSimulator,
        set_llm: Callable[..., None]) -> None:
    user = unique("u")
    texts = ["hola buenas", "¿hacen envíos a Medellín?", "y cuánto se demora"]
    burst = [request(t, user=user) for t in texts]
    store = MemoryStore()

    async def body(producer: Producer) -> None:
        # What guardrails does for each message of a burst 0.4 s apart: buffer it, then request an answer no
        # sooner than a second later. All three are buffered before the first request exists, so the answer
        # covers them however long this machine takes between the steps.
        t0 = time.time()
        for i, ev in enumerate(burst):
            await PendingMessages(redis_client).push(ev.conversation, ev.payload.message_id, ev.payload.text,
                                                     t0 + 0.4 * i)
        for ev in burst:
            ev.payload.not_before = soon(1.0)
            await producer.publish(Emit(AI_REQUESTS, ev))
        await asyncio.to_thread(read_topic, kafka_bootstrap, topic_prefix + OUTBOUND, expect=1, idle=3)
        assert await eventually(lambda: len(store.traces) == 2), store.traces  # the covered requests end too

    await _run_service(kafka_bootstrap, topic_prefix, redis_client, sim, store, body)
    replies = read_topic(kafka_bootstrap, topic_prefix + OUTBOUND, expect=1, idle=2)
    assert len(replies) == 1
    reply = replies[0].event()
    assert isinstance(reply, ReplyRequested) and reply.payload.in_reply_to == burst[0].payload.message_id
    assert reply.trace.attrs["ai_messages"] == 3 and "envíos" in (reply.payload.text or "")
    assert sorted((r.correlation_id, r.outcome) for r in store.traces) == \
        sorted((ev.correlation_id, "coalesced") for ev in burst[1:])
