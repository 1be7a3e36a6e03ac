"""A reply to a message the customer deleted (or edited) before it went out, on the runtime, the broker, Redis and
the simulator: ReplyCancelled on wa.delivery.v1 and nothing sent; a reply that began before the revoke goes out."""

from __future__ import annotations

import asyncio

import httpx
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry

from schemas.events import ReplyCancelled, ReplySent
from schemas.topics import DELIVERY, OUTBOUND
from services.sender.app import build_app
from tests.integration.sender.conftest import PNID, open_window, reply, settings
from tests.support import read_topic
from wapipe.runtime.producer import Producer
from wapipe.runtime.types import Emit
from wapipe.state.answers import Answers
from wapipe.store import ConversationStore
from wapipe_tools.simulator.serve import BackgroundSimulator


async def test_a_withdrawn_message_gets_no_reply_at_all(sim: BackgroundSimulator, kafka_bootstrap: str,
                                                        topic_prefix: str, group_id: str,
                                                        redis_client: aioredis.Redis,
                                                        store: ConversationStore) -> None:
    deleted, edited, kept = "573004440001", "573004440002", "573004440003"
    for user in (deleted, edited, kept):
        await open_window(redis_client, sim, user)
    answers = Answers(redis_client)
    to_deleted, to_edited, to_kept = (reply(u, covers=[f"wamid.in.{u}.0"]) for u in (deleted, edited, kept))
    assert await answers.cancel(PNID, f"wamid.in.{deleted}.0", "revoked") == "cancelled"  # before the sender
    assert await answers.cancel(PNID, f"wamid.in.{edited}.0", "edited") == "cancelled"
    producer = Producer(kafka_bootstrap, topic_prefix=topic_prefix)
    for ev in (to_deleted, to_edited, to_kept):
        await producer.publish(Emit(OUTBOUND, ev))
    app = build_app(settings(sim, kafka_bootstrap_servers=kafka_bootstrap, topic_prefix=topic_prefix),
                    redis=redis_client, store=store, producer=producer, registry=CollectorRegistry(),
                    group_id=group_id)
    task = asyncio.create_task(app.worker.run())
    try:
        await app.worker.wait_ready(30)
        out = await asyncio.to_thread(read_topic, kafka_bootstrap, topic_prefix + DELIVERY, expect=3, timeout=30)
    finally:
        await app.worker.stop()
        await task
        await app.aclose()
        producer.close()

    events = {r.event().payload.reply_id: r.event() for r in out}  # type: ignore[union-attr]
    assert isinstance(events[to_deleted.payload.reply_id], ReplyCancelled)
    assert events[to_deleted.payload.reply_id].payload.reason == "revoked"  # type: ignore[union-attr]
    assert events[to_edited.payload.reply_id].payload.reason == "edited"  # type: ignore[union-attr]
    assert isinstance(events[to_kept.payload.reply_id], ReplySent)
    sent = httpx.get(f"{sim.url}/_sim/messages").json()["messages"]
    assert [m["to"] for m in sent] == [kept]  # no message, no read receipt for the withdrawn ones
    reads = httpx.get(f"{sim.url}/_sim/messages").json()["reads"]
    assert [r["message_id"] for r in reads] == [to_kept.payload.in_reply_to]
    assert [t.outcome for t in await store.traces_by_correlation(to_deleted.correlation_id)] == ["cancelled"]
    # the kept message's answer began: a revoke arriving now finds it answered and cannot stop it
    assert await answers.cancel(PNID, f"wamid.in.{kept}.0", "revoked") == "answered"
