"""The consent and privacy part of the store contract, run against every reachable backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.integration.store.conftest import StoreFactory
from tests.support import unique
from wapipe.store import ConsentChange, HandoffEntry, PrivacyAudit, Store, TraceRecord, Turn
from wapipe.store.port import IdentityLink

NOW = datetime.now(UTC).replace(microsecond=654321)


def change(tenant: str, user: str, i: int, status: str = "opted_out", source: str = "keyword") -> ConsentChange:
    return ConsentChange(tenant, user, NOW + timedelta(seconds=i), status, source,  # type: ignore[arg-type]
                         "customer", detail="stop", message_id=f"wamid.{user}.{i}")


def customer_data(tenant: str, user: str, n: int = 3) -> tuple[list[Turn], list[TraceRecord], list[HandoffEntry]]:
    conv = f"{tenant}:{user}"
    turns = [Turn(tenant, user, NOW + timedelta(seconds=i), "customer", f"hola {i}", (f"wamid.{user}.{i}",))
             for i in range(n)]
    traces = [TraceRecord(tenant, conv, f"wamid.{tenant}.{user}.{i}", NOW + timedelta(seconds=i), "replied",
                          route="reply") for i in range(n)]
    handoffs = [HandoffEntry(tenant, user, NOW + timedelta(seconds=i), "requested", "guardrails") for i in range(n)]
    return turns, traces, handoffs


async def write_all(store: Store, data: tuple[list[Turn], list[TraceRecord], list[HandoffEntry]]) -> None:
    turns, traces, handoffs = data
    for t in turns:
        await store.append_turn(t)
    for tr in traces:
        await store.write_trace(tr)
    for h in handoffs:
        await store.append_handoff(h)


async def test_consent_is_the_newest_change_with_its_history(store: Store) -> None:
    tenant, user = unique("pn"), unique("u")
    assert await store.consent(tenant, user) is None
    assert await store.consent_history(tenant, user) == []

    out = change(tenant, user, 0)
    back = change(tenant, user, 60, "opted_in")
    again = change(tenant, user, 120, "opted_out", "user_preferences")
    for c in (back, again, out):  # arrival order must not matter
        await store.record_consent(c)
    await store.record_consent(out)  # a redelivery is stored once

    assert await store.consent(tenant, user) == again
    assert await store.consent_history(tenant, user) == [out, back, again]
    assert await store.consent_history(tenant, user, limit=2) == [back, again]
    assert await store.consent(tenant, unique("u")) is None
    assert await store.consent(unique("pn"), user) is None  # same customer id, other business


async def test_consent_outlives_the_conversation_retention(make_store: StoreFactory) -> None:
    import asyncio

    store = await make_store(retention=timedelta(seconds=1))
    tenant, user = unique("pn"), unique("u")
    c = change(tenant, user, 0)
    await store.record_consent(c)
    await store.append_turn(Turn(tenant, user, NOW, "customer", "STOP"))

    await asyncio.sleep(2.5)  # Cassandra TTLs have one-second resolution
    await store.purge()  # type: ignore[attr-defined]

    assert await store.last_turns(tenant, user) == []
    assert await store.consent(tenant, user) == c


async def test_erase_deletes_one_customer_and_nobody_else(store: Store) -> None:
    tenant, user, other, bsuid = unique("pn"), unique("u"), unique("u"), unique("CO.")
    mine, theirs = customer_data(tenant, user), customer_data(tenant, other)
    await write_all(store, mine)
    await write_all(store, theirs)
    await store.append_turn(Turn(tenant, bsuid, NOW, "customer", "mismo cliente, otra identidad"))
    await store.record_consent(change(tenant, user, 0))
    await store.record_consent(change(tenant, user, 1, "opted_in"))
    await store.record_consent(change(tenant, other, 0))
    elsewhere = unique("pn")
    await write_all(store, customer_data(elsewhere, user))  # the same number at another business

    await store.revise_turn(tenant, user, f"wamid.{user}.1", "hola, editado", NOW)
    # the customer's two ids both lead to their conversation's user; the other customer has a link of their own
    await store.link_identity(IdentityLink(tenant, "wa_id", user, user, NOW))
    await store.link_identity(IdentityLink(tenant, "user_id", bsuid, user, NOW))
    await store.link_identity(IdentityLink(tenant, "wa_id", other, other, NOW))

    counts = await store.erase_customer(tenant, [user, bsuid], [f"{tenant}:{user}", f"{tenant}:{bsuid}"])

    assert counts == {"turns": 4, "revisions": 1, "traces": 3, "handoffs": 3, "consent": 2, "identities": 2}
    assert await store.identity(tenant, "wa_id", user) is None
    assert await store.identity(tenant, "user_id", bsuid) is None
    assert await store.identities_of(tenant, user) == []
    assert await store.identity(tenant, "wa_id", other) is not None
    assert await store.last_turns(tenant, user) == []
    assert await store.last_turns(tenant, bsuid) == []
    assert await store.traces_by_conversation(tenant, f"{tenant}:{user}") == []
    for tr in mine[1]:
        assert await store.traces_by_correlation(tr.correlation_id) == []
    hour = timedelta(hours=1)
    remaining = await store.traces_between(tenant, NOW - hour, NOW + hour)
    assert {t.conversation for t in remaining} == {f"{tenant}:{other}"}
    assert await store.handoffs(tenant, user) == []
    assert await store.consent(tenant, user) is None
    assert await store.consent_history(tenant, user) == []

    assert len(await store.last_turns(tenant, other)) == 3
    assert len(await store.traces_by_conversation(tenant, f"{tenant}:{other}")) == 3
    assert len(await store.handoffs(tenant, other)) == 3
    assert await store.consent(tenant, other) is not None
    assert len(await store.last_turns(elsewhere, user)) == 3

    again = await store.erase_customer(tenant, [user, bsuid], [f"{tenant}:{user}", f"{tenant}:{bsuid}"])
    assert set(again.values()) == {0}


async def test_privacy_audit_keeps_who_when_and_counts(store: Store) -> None:
    tenant = unique("pn")
    first = PrivacyAudit(tenant, NOW, "export", "operator:laura", "…4567", {})
    second = PrivacyAudit(tenant, NOW + timedelta(seconds=5), "erase", "operator:laura", "…4567",
                          {"turns": 4, "traces": 3, "redis_keys": 7})
    await store.append_privacy_audit(second)
    await store.append_privacy_audit(first)
    await store.append_privacy_audit(second)

    assert await store.privacy_audit(tenant) == [first, second]
    assert await store.privacy_audit(tenant, limit=1) == [second]
    assert await store.privacy_audit(unique("pn")) == []
