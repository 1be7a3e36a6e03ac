"""What the customer gets: the sender's handler against the simulator over HTTP, real Redis and SQLite."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable

import httpx
import pytest
import redis.asyncio as aioredis

from schemas.events import ReplyFailed, ReplySent
from services.sender.handlers import Sender
from services.sender.outcomes import ReplyFailedError
from tests.integration.sender.conftest import PNID, open_window, reply, sim_post
from tests.support import eventually
from wapipe.apichat import wait_reply
from wapipe.runtime.types import RecordMeta
from wapipe.store import ConversationStore
from wapipe_tools.simulator.serve import BackgroundSimulator

META = RecordMeta("wa.outbound.v1", 0, 0, None, None)


def sent_to(sim: BackgroundSimulator, user: str) -> list[dict[str, object]]:
    return list(httpx.get(f"{sim.url}/_sim/messages", params={"to": user}).json()["messages"])


async def test_normal_send_marks_read_and_records_turn_and_trace(
        sim: BackgroundSimulator, make_sender: Callable[..., Sender], redis_client: aioredis.Redis,
        store: ConversationStore) -> None:
    await open_window(redis_client, sim, "573001110001")
    ev = reply("573001110001", "Sí, hacemos envíos a todo el país.")
    out = await make_sender().handle(ev, META)
    msgs = sent_to(sim, "573001110001")
    assert [(m["kind"], m["text"], m["biz_opaque_callback_data"]) for m in msgs] == [
        ("text", "Sí, hacemos envíos a todo el país.", f"{ev.payload.reply_id}:0")]
    sent = out[0].event
    assert isinstance(sent, ReplySent) and sent.payload.wamids == [msgs[0]["id"]]
    reads = httpx.get(f"{sim.url}/_sim/messages").json()["reads"]
    assert reads == [{"phone_number_id": PNID, "message_id": ev.correlation_id, "typing": True,
                      "timestamp": reads[0]["timestamp"]}]
    turns = await store.last_turns(PNID, "573001110001")
    assert [(t.role, t.text) for t in turns] == [("assistant", "Sí, hacemos envíos a todo el país.")]
    traces = await store.traces_by_correlation(ev.correlation_id)
    assert [t.outcome for t in traces] == ["replied"] and "sender:sent" in traces[0].decision_path


async def test_long_answer_arrives_as_ordered_parts(sim: BackgroundSimulator, make_sender: Callable[..., Sender],
                                                    redis_client: aioredis.Redis) -> None:
    await open_window(redis_client, sim, "573001110002")
    paragraphs = [f"Sección {i}. " + "Detalle sobre cambios, tallas y envíos. " * 23 for i in range(10)]
    text = "\n\n".join(p.strip() for p in paragraphs)
    assert len(text) > 9000
    out = await make_sender().handle(reply("573001110002", text), META)
    msgs = sent_to(sim, "573001110002")
    assert len(msgs) == 3 and all(len(str(m["text"])) <= 4096 for m in msgs)
    assert "\n\n".join(str(m["text"]) for m in msgs) == text
    assert out[0].event.payload.parts == 3


async def test_injected_5xx_and_timeouts_are_retried_then_delivered(
        sim: BackgroundSimulator, make_sender: Callable[..., Sender], redis_client: aioredis.Redis) -> None:
    await open_window(redis_client, sim, "573001110003")
    await sim_post(sim, "/_sim/faults", {"kind": "5xx", "status": 503, "count": 2})
    await sim_post(sim, "/_sim/faults", {"kind": "timeout", "delay_s": 1.5, "count": 1})
    await sim_post(sim, "/_sim/faults", {"kind": "code", "code": 131000, "count": 1})
    out = await make_sender().handle(reply("573001110003"), META)
    assert len(sent_to(sim, "573001110003")) == 1
    assert out[0].event.payload.attempts == 5


async def test_window_closed_sends_the_template_instead(
        sim: BackgroundSimulator, make_sender: Callable[..., Sender], redis_client: aioredis.Redis) -> None:
    # Our clock says closed: the template goes out without trying free-form.
    out = await make_sender().handle(reply("573001110004"), META)
    # Our clock says open but Meta answers 131047: fall back all the same.
    await open_window(redis_client, sim, "573001110005")
    await sim_post(sim, "/_sim/window", {"to": "573001110005", "open": False})
    out2 = await make_sender().handle(reply("573001110005"), META)
    for user, o in (("573001110004", out), ("573001110005", out2)):
        msgs = sent_to(sim, user)
        assert [(m["kind"], m["text"]) for m in msgs] == [("template", "[template seguimiento]")]
        assert o[0].event.payload.template_fallback is True


async def test_window_closed_without_template_fails_permanently(
        sim: BackgroundSimulator, make_sender: Callable[..., Sender]) -> None:
    with pytest.raises(ReplyFailedError) as info:
        await make_sender(template=False).handle(reply("573001110006"), META)
    failed = info.value.emits[0].event
    assert isinstance(failed, ReplyFailed) and failed.payload.error_code == 131047
    assert sent_to(sim, "573001110006") == []


async def test_permanent_meta_error_is_not_retried(sim: BackgroundSimulator, make_sender: Callable[..., Sender],
                                                   redis_client: aioredis.Redis) -> None:
    await open_window(redis_client, sim, "573001110007")
    await sim_post(sim, "/_sim/faults", {"kind": "code", "code": 131026, "count": 1})
    with pytest.raises(ReplyFailedError) as info:
        await make_sender().handle(reply("573001110007"), META)
    assert info.value.emits[0].event.payload.error_code == 131026
    assert info.value.emits[0].event.payload.attempts == 1
    assert sent_to(sim, "573001110007") == []


async def test_same_reply_twice_is_sent_once(sim: BackgroundSimulator, make_sender: Callable[..., Sender],
                                             redis_client: aioredis.Redis) -> None:
    await open_window(redis_client, sim, "573001110008")
    ev = reply("573001110008", "x" * 5000)
    first = await make_sender().handle(ev, META)
    second = await make_sender().handle(ev, META)  # another replica, same Redis
    assert len(sent_to(sim, "573001110008")) == 2
    assert first[0].event.payload.wamids == second[0].event.payload.wamids


async def test_api_channel_reply_goes_to_the_waiting_request(
        sim: BackgroundSimulator, make_sender: Callable[..., Sender], redis_client: aioredis.Redis) -> None:
    ev = reply("api:573001110009", "Abrimos de 9 a 19.", channel="api", route="faq")
    waiter = asyncio.create_task(wait_reply(redis_client, ev.correlation_id, 5))
    await make_sender().handle(ev, META)
    got = await waiter
    assert got is not None and got.reply == "Abrimos de 9 a 19." and got.route == "faq"
    assert httpx.get(f"{sim.url}/_sim/messages").json()["messages"] == []  # never the Graph API


async def test_throughput_storm_is_paced_and_fully_delivered(
        sim: BackgroundSimulator, make_sender: Callable[..., Sender], redis_client: aioredis.Redis) -> None:
    await sim_post(sim, "/_sim/limits", {"number_rate": 25, "number_burst": 5})
    # Meta's bucket reads a clock that moves 10 ms per send attempt, not the wall clock: past the burst about one
    # attempt in four finds a token, however fast or slow this machine issues them.
    ticks = itertools.count()
    sim.state.clock = lambda: next(ticks) * 0.01
    users = [f"5730022{i:05d}" for i in range(60)]
    for u in users:
        await open_window(redis_client, sim, u)
    sender = make_sender(send_attempts=30, mark_as_read=False)
    outs = await asyncio.gather(*(sender.handle(reply(u, f"hola {u}"), META) for u in users))
    assert len(outs) == 60
    msgs = httpx.get(f"{sim.url}/_sim/messages").json()["messages"]
    assert sorted(m["to"] for m in msgs) == sorted(users)  # each exactly once
    retried = sender.metrics.retries.labels(PNID, "130429")._value.get()
    assert retried > 0  # the storm happened and was absorbed


async def test_a_paced_conversation_does_not_hold_up_others(
        sim: BackgroundSimulator, make_sender: Callable[..., Sender], redis_client: aioredis.Redis) -> None:
    for u in ("573001110010", "573001110011"):
        await open_window(redis_client, sim, u)
    sender = make_sender(pair_burst=1, pair_interval_s=6.0)  # Meta's own pace: one per 6 s after the burst
    slow = asyncio.gather(*(sender.handle(reply("573001110010", f"parte {i}", n=i), META) for i in range(2)))
    assert await eventually(lambda: len(sent_to(sim, "573001110010")) == 1)
    await sender.handle(reply("573001110011", "otra conversación"), META)
    await slow
    order = [m["to"] for m in httpx.get(f"{sim.url}/_sim/messages").json()["messages"]]
    # The other conversation went out while the paced one's second part waited for its slot.
    assert order == ["573001110010", "573001110011", "573001110010"]
