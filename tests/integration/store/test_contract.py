"""The ConversationStore contract, run against every reachable backend (SQLite always, Cassandra when reachable)
and against the in-memory fake the unit tests use."""

from __future__ import annotations

import asyncio
import random
import time
from datetime import UTC, datetime, timedelta

from tests.integration.store.conftest import StoreFactory
from tests.support import ManualClock, unique
from wapipe.store import ConversationStore, HandoffEntry, TraceRecord, Turn

NOW = datetime.now(UTC).replace(microsecond=123456)
SPANISH = "¿Tienen envíos a Medellín? Quiero las zapatillas talla 38 👟🇨🇴 — «ñandú»\nsegunda línea 日本語 עברית"


def turn(tenant: str, user: str, i: int, role: str = "customer", text: str | None = None) -> Turn:
    return Turn(tenant=tenant, user=user, ts=NOW + timedelta(seconds=i), role=role,  # type: ignore[arg-type]
                text=text or f"mensaje {i}", message_ids=(f"wamid.{user}.{i}",))


def trace(tenant: str, conv: str, cid: str, at: datetime, outcome: str = "replied") -> TraceRecord:
    return TraceRecord(tenant=tenant, conversation=conv, correlation_id=cid, ts=at, outcome=outcome,
                       route="ai", message_type="text", intent="envios", decision_path=("dedupe:new", "route:ai"),
                       llm_called=True, cache_hit=False, stages={"guardrails": 0.004, "ai": 1.25},
                       attrs={"tokens_in": 312, "model": "gpt-4o-mini", "spend": 0.0004})


async def test_last_turns_are_the_newest_n_oldest_first(store: ConversationStore) -> None:
    tenant, user = unique("pn"), unique("u")
    turns = [turn(tenant, user, i, role=("customer", "assistant", "human")[i % 3]) for i in range(10)]
    for t in random.sample(turns, len(turns)):  # arrival order must not matter
        await store.append_turn(t)

    assert await store.last_turns(tenant, user, n=6) == turns[4:]
    assert await store.last_turns(tenant, user, n=100) == turns
    assert await store.last_turns(tenant, user, n=1) == turns[-1:]


async def test_conversations_are_isolated(store: ConversationStore) -> None:
    tenant_a, tenant_b, user, other = unique("pn"), unique("pn"), unique("u"), unique("u")
    await store.append_turn(turn(tenant_a, user, 1, text="de A"))
    await store.append_turn(turn(tenant_b, user, 2, text="de B"))  # same user, other business
    await store.append_turn(turn(tenant_a, other, 3, text="otro cliente"))

    assert [t.text for t in await store.last_turns(tenant_a, user)] == ["de A"]
    assert [t.text for t in await store.last_turns(tenant_b, user)] == ["de B"]
    assert [t.text for t in await store.last_turns(tenant_a, other)] == ["otro cliente"]
    assert await store.last_turns(tenant_a, unique("nobody")) == []


async def test_unicode_text_round_trips_exactly(store: ConversationStore) -> None:
    tenant, user = unique("pn"), unique("u")
    await store.append_turn(turn(tenant, user, 0, text=SPANISH))
    await store.append_handoff(HandoffEntry(tenant, user, NOW, "requested", "guardrails", reason="pidió asesor 🙋",
                                            detail=SPANISH))
    t = trace(tenant, f"{tenant}:{user}", unique("wamid."), NOW)
    t.attrs["nota"] = SPANISH
    await store.write_trace(t)

    assert (await store.last_turns(tenant, user))[0].text == SPANISH
    assert (await store.handoffs(tenant, user))[0].detail == SPANISH
    assert (await store.traces_by_correlation(t.correlation_id))[0].attrs["nota"] == SPANISH


async def test_a_redelivered_write_is_stored_once(store: ConversationStore) -> None:
    tenant, user = unique("pn"), unique("u")
    t = turn(tenant, user, 0)
    await store.append_turn(t)
    await store.append_turn(t)
    assert await store.last_turns(tenant, user) == [t]


async def test_traces_by_conversation_and_by_correlation(store: ConversationStore) -> None:
    tenant, conv_a, conv_b = unique("pn"), unique("c"), unique("c")
    cid = unique("wamid.")
    first = trace(tenant, conv_a, cid, NOW, outcome="coalesced")
    second = trace(tenant, conv_a, cid, NOW + timedelta(seconds=2), outcome="replied")
    others = [trace(tenant, conv_a, unique("wamid."), NOW + timedelta(seconds=10 + i)) for i in range(3)]
    elsewhere = trace(tenant, conv_b, unique("wamid."), NOW)
    for t in (second, *others, elsewhere, first):
        await store.write_trace(t)

    assert await store.traces_by_correlation(cid) == [first, second]
    assert await store.traces_by_conversation(tenant, conv_a) == [first, second, *others]
    assert await store.traces_by_conversation(tenant, conv_a, limit=2) == others[1:]
    assert await store.traces_by_conversation(tenant, conv_b) == [elsewhere]
    assert await store.traces_by_correlation(unique("wamid.")) == []


async def test_traces_by_time_range(store: ConversationStore) -> None:
    tenant, other_tenant = unique("pn"), unique("pn")
    base = datetime.now(UTC) - timedelta(days=2)
    # 8 traces 6 h apart across three days, plus one from another tenant inside the range
    traces = [trace(tenant, unique("c"), unique("wamid."), base + timedelta(hours=6 * i)) for i in range(8)]
    for t in random.sample(traces, len(traces)):
        await store.write_trace(t)
    await store.write_trace(trace(other_tenant, unique("c"), unique("wamid."), base + timedelta(hours=7)))

    start, end = traces[1].ts, traces[6].ts  # start inclusive, end exclusive
    assert await store.traces_between(tenant, start, end) == traces[1:6]
    assert await store.traces_between(tenant, start, end, limit=2) == traces[1:3]
    assert await store.traces_between(tenant, base - timedelta(days=1), base) == []


async def test_handoff_audit_trail(store: ConversationStore) -> None:
    tenant, user = unique("pn"), unique("u")
    entries = [
        HandoffEntry(tenant, user, NOW, "requested", "guardrails", reason="cliente pidió humano"),
        HandoffEntry(tenant, user, NOW + timedelta(seconds=5), "notified", "notifier"),
        HandoffEntry(tenant, user, NOW + timedelta(seconds=60), "taken", "operator:laura"),
        HandoffEntry(tenant, user, NOW + timedelta(seconds=90), "reply", "operator:laura", detail="Hola, soy Laura"),
        HandoffEntry(tenant, user, NOW + timedelta(seconds=600), "released", "operator:laura"),
    ]
    for e in entries:
        await store.append_handoff(e)

    assert await store.handoffs(tenant, user) == entries
    assert await store.handoffs(tenant, user, limit=2) == entries[-2:]
    assert await store.handoffs(tenant, unique("u")) == []


async def test_everything_expires_after_the_retention(make_store: StoreFactory) -> None:
    sqlite = make_store.backend in ("sqlite", "memory")  # type: ignore[attr-defined]
    # SQLite (and the fake) read an injected clock, so nothing expires until the test moves it; Cassandra's TTLs run
    # on the server's clock (one-second resolution), with a retention long enough for the reads right after the writes.
    clock = ManualClock(time.time())
    retention = timedelta(seconds=1 if sqlite else 5)
    store = await (make_store(retention=retention, clock=clock) if sqlite else make_store(retention=retention))
    tenant, user, cid = unique("pn"), unique("u"), unique("wamid.")
    await store.append_turn(turn(tenant, user, 0))
    await store.write_trace(trace(tenant, f"{tenant}:{user}", cid, datetime.now(UTC)))
    await store.append_handoff(HandoffEntry(tenant, user, NOW, "requested", "ai"))
    assert len(await store.last_turns(tenant, user)) == 1
    assert len(await store.traces_by_correlation(cid)) == 1

    if sqlite:
        clock.advance(2)
    else:
        await asyncio.sleep(retention.total_seconds() + 1.5)

    assert await store.last_turns(tenant, user) == []
    assert await store.traces_by_correlation(cid) == []
    assert await store.traces_by_conversation(tenant, f"{tenant}:{user}") == []
    hour = timedelta(hours=1)
    assert await store.traces_between(tenant, datetime.now(UTC) - hour, datetime.now(UTC) + hour) == []
    assert await store.handoffs(tenant, user) == []
    purged = await store.purge()  # type: ignore[attr-defined]
    # SQLite and the in-memory fake delete the rows now; Cassandra already dropped them by TTL.
    assert purged == (0 if make_store.backend == "cassandra" else 3)  # type: ignore[attr-defined]


async def test_concurrent_writers_lose_nothing(store: ConversationStore) -> None:
    tenant, user = unique("pn"), unique("u")
    writers, per_writer = 50, 20

    async def writer(w: int) -> None:
        for i in range(per_writer):
            await store.append_turn(turn(tenant, user, w * per_writer + i, text=f"escritor {w} turno {i}"))
            await store.append_turn(turn(tenant, f"{user}-{w}", i))  # and each writer's own conversation

    await asyncio.gather(*(writer(w) for w in range(writers)))

    shared = await store.last_turns(tenant, user, n=writers * per_writer + 10)
    assert len(shared) == writers * per_writer
    assert [t.ts for t in shared] == sorted(t.ts for t in shared)
    for w in random.sample(range(writers), 5):
        assert len(await store.last_turns(tenant, f"{user}-{w}", n=100)) == per_writer
