"""Export and erasure of one customer on the real Redis and the SQLite store, with the state every service keeps
written through each service's own adapter (so a new per-customer key that erasure misses fails here)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from schemas.envelope import conversation_key, derive_id
from services.ai.coalesce import PendingBuffer
from services.ai.cost import SpendLedger
from services.guardrails.adapters import RedisDedupe, RedisFlood
from services.ingress.ratelimit import Limit, hit_all
from services.notifier.state import RedisNotifierState
from services.notifier.texts import ref_of
from services.sender.claims import SendClaims
from services.sender.pacing import Pacer
from wapipe.apichat import ApiChatReply, push_reply
from wapipe.privacy import Privacy, resolve_subject
from wapipe.state.consent import Consent
from wapipe.state.identity import IdentityMap
from wapipe.state.pending import PendingMessages
from wapipe.state.shadow import ShadowMode
from wapipe.state.window import ServiceWindow
from wapipe.store import ConsentChange, ContextCache, HandoffEntry, Store, TraceRecord, Turn, open_store
from wapipe.store.port import IdentityLink
from wapipe.tenants import TenantRegistry

TENANTS = Path(__file__).parents[3] / "config" / "tenants"
PNID = "100000000000001"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = open_store(f"sqlite:///{tmp_path}/wapipe.db")
    await s.migrate()
    try:
        yield s
    finally:
        await s.close()


async def keep_everything(redis: aioredis.Redis, store: Store, user: str, n: int = 0) -> str:
    """What a conversation leaves behind in every service; returns its conversation key."""
    conv = conversation_key(PNID, user)
    wamid, sent = f"wamid.IN{user}{n}", f"wamid.OUT{user}{n}"
    now = datetime.now(UTC).replace(microsecond=0)  # the moment all of it was written
    await store.append_turn(Turn(PNID, user, now, "customer", "hola, ¿tienen tenis?", (wamid,)))
    await ContextCache(redis, store).append_turn(Turn(PNID, user, now + timedelta(seconds=1), "assistant",
                                                      "Sí, tenemos 👟", (sent,)))
    await ContextCache(redis, store).last_turns(PNID, user)  # fills ctx:
    await store.write_trace(TraceRecord(PNID, conv, wamid, now, "replied", route="ai"))
    await store.append_handoff(HandoffEntry(PNID, user, now, "requested", "guardrails", reason="humano"))
    await Consent(redis, store).record(ConsentChange(PNID, user, now, "opted_out", "keyword", "customer", "stop",
                                                     wamid))
    await RedisDedupe(redis).claim(PNID, wamid, "wa.inbound.v1:0:1")
    await ServiceWindow(redis).touch(conv, now)
    await ShadowMode(redis).activate(conv, "humano", "guardrails", 3600)
    flood = RedisFlood(redis)
    await flood.admit(conv, wamid, now.timestamp())
    await flood.notice_once(conv, wamid)
    await PendingMessages(redis).push(conv, wamid, "hola", now.timestamp())
    buffer = PendingBuffer(redis)
    await buffer.finish(conv, 0, [wamid], wamid, wamid, {"events": ["…"]})
    ledger = SpendLedger(redis)
    hold = await ledger.reserve(PNID, 0.001, 5.0)
    assert hold is not None
    await ledger.settle(hold, conv, 0.001)
    claims, send_id = SendClaims(redis), f"{derive_id(wamid, 'ai', 0)}:0"  # names neither the customer nor wamid
    await claims.claim(send_id, "tok")
    await claims.begin(send_id)
    await claims.mark_sent(send_id, sent)
    pacer = Pacer(redis)
    await pacer.reserve(PNID, user)
    await pacer.pause(PNID, user, 30)
    notifier = RedisNotifierState(redis)
    await notifier.claim_handoff(conv, wamid, 3600)
    await notifier.remember_ref(ref_of(conv), conv, 3600)
    await notifier.allow_relay(conv, wamid, now.timestamp(), 20, 600)
    await push_reply(redis, wamid, ApiChatReply(reply="hola", route="reply", decision_path=[], llm_called=False,
                                                latency_ms=1))
    await hit_all(redis, [Limit("apichat:conversation", conv, 30)])
    return conv


async def customer_keys(redis: aioredis.Redis, *needles: str) -> list[str]:
    found = []
    async for raw in redis.scan_iter(match="*", count=1000):
        key = raw.decode()
        if any(n in key for n in needles):
            found.append(key)
    return sorted(found)


async def test_export_then_erase_leaves_nothing_of_the_customer_and_everything_of_the_others(
        redis_client: aioredis.Redis, store: Store) -> None:
    user, other, longer = "573001110000", "573002220000", "5730011100009"  # `longer` starts with `user`
    conv = await keep_everything(redis_client, store, user)
    await keep_everything(redis_client, store, other)
    await keep_everything(redis_client, store, longer)
    tenants = TenantRegistry(TENANTS)
    subject = resolve_subject(tenants, "demo", user)
    privacy = Privacy(store, redis_client)
    before_others = await customer_keys(redis_client, other, longer)

    doc = await privacy.export(subject, "operator:laura")
    assert doc["tenant"] == {"phone_number_id": PNID, "name": "demo"} and doc["conversations"] == [conv]
    assert [t["role"] for t in doc["turns"]] == ["customer", "assistant"]
    assert doc["turns"][0]["text"] == "hola, ¿tienen tenis?"
    assert len(doc["traces"]) == 1 and len(doc["handoffs"]) == 1
    assert doc["consent"]["status"] == "opted_out" and doc["consent"]["history"][0]["detail"] == "stop"
    assert doc["media"] == []
    exported = {r["key"] for r in doc["redis"]}
    families = {"window", "shadow", "flood", "pending", "consent", "ctx", "ctxgen", "dedupe", "ai:covered",
                "ai:memo", "llm:conv_cost", "send", "pace:pair", "pace:pause", "notifier:handoff",
                "notifier:ref", "notifier:relays", "apichat", "rate:apichat:conversation"}
    for family in families:
        assert any(k.startswith(f"wapipe:{family}:") for k in exported), family
    [index] = [r for r in doc["redis"] if r["key"] == "wapipe:shadow:index"]
    assert index["type"] == "zset member" and index["value"]["member"] == conv  # the score: when it expires
    window = next(r for r in doc["redis"] if r["key"] == f"wapipe:window:{conv}")
    assert window["type"] == "string" and window["value"] > 1.7e9 and 0 < window["ttl_s"] <= 24 * 3600
    assert not any(other in k or longer in k for k in exported)

    result = await privacy.erase(subject, "operator:laura")
    counts = result["counts"]
    assert (counts["turns"], counts["traces"], counts["handoffs"], counts["consent"]) == (2, 1, 1, 1)
    assert counts["redis_keys"] == len(doc["redis"])
    assert result["subject"] == "…0000" and user not in str(result)

    # nothing of the customer remains in Redis: by user id, by conversation key, by their message ids
    left = await customer_keys(redis_client, user, conv, f"IN{user}0", f"OUT{user}0")
    assert left and all(longer in k for k in left)  # only the look-alike's keys contain these strings
    sent_claims = [await redis_client.get(k) for k in await customer_keys(redis_client, "wapipe:send:")]
    assert f"sent:wamid.OUT{user}0".encode() not in sent_claims and len(sent_claims) == 2  # the others' remain
    assert await redis_client.zscore("wapipe:shadow:index", conv) is None
    assert await customer_keys(redis_client, other, longer) == before_others  # the others keep everything
    assert len(await store.last_turns(PNID, other)) == 2 and await store.consent(PNID, longer) is not None

    empty = await privacy.export(subject, "operator:laura")
    assert set(empty["kept"].values()) == {0} and set(empty["kept"]) >= {"turns", "traces", "consent", "identities"}
    assert empty["redis"] == [] and empty["consent"] == {"status": None, "history": []}

    again = await privacy.erase(subject, "operator:laura")  # idempotent
    assert set(again["counts"].values()) == {0}
    audit = await store.privacy_audit(PNID)
    assert [a.action for a in audit] == ["export", "erase", "export", "erase"]
    assert {(a.actor, a.subject) for a in audit} == {("operator:laura", "…0000")}
    assert audit[1].counts == counts and all(user not in str(a) for a in audit)


async def test_every_identity_of_the_customer_is_erased(redis_client: aioredis.Redis, store: Store) -> None:
    wa_id, bsuid = "573003330000", "CO.1297408873021955"
    await keep_everything(redis_client, store, wa_id)
    conv_b = await keep_everything(redis_client, store, bsuid)
    subject = resolve_subject(TenantRegistry(TENANTS), PNID, "+573003330000", other_ids=(bsuid,))
    assert subject.users == (wa_id, bsuid) and subject.conversations[1] == conv_b

    await Privacy(store, redis_client).erase(subject, "cli")

    assert await customer_keys(redis_client, wa_id, bsuid) == []
    assert await store.last_turns(PNID, bsuid) == [] and await store.consent(PNID, bsuid) is None


async def test_the_identity_map_finds_the_customer_under_either_id(redis_client: aioredis.Redis,
                                                                   store: Store) -> None:
    wa_id, bsuid = "573004440000", "CO.1297408873029999"  # the conversation key took the BSUID first
    conv = await keep_everything(redis_client, store, bsuid)
    now = datetime.now(UTC)
    await IdentityMap(redis_client, store).link(IdentityLink(PNID, "user_id", bsuid, bsuid, now))
    await IdentityMap(redis_client, store).link(IdentityLink(PNID, "wa_id", wa_id, bsuid, now))
    subject = resolve_subject(TenantRegistry(TENANTS), "demo", wa_id)  # asked by phone number

    doc = await Privacy(store, redis_client).export(subject, "dpo")
    assert conv in doc["conversations"] and {(x["kind"], x["value"]) for x in doc["identity_links"]} == {
        ("user_id", bsuid), ("wa_id", wa_id)}
    assert [t["role"] for t in doc["turns"]] == ["customer", "assistant"]

    await Privacy(store, redis_client).erase(subject, "dpo")
    assert await customer_keys(redis_client, wa_id, bsuid) == []
    assert await store.identities_of(PNID, bsuid) == [] and await store.last_turns(PNID, bsuid) == []
