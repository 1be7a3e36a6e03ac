"""One conversation key per customer per tenant, on the real broker, Redis and a SQLite store: webhooks as Meta
sends them, with and without the business-scoped user id, identity changes, statuses and merges."""

from __future__ import annotations

import json
import uuid
from typing import Any

from schemas.events import MessageReceived, StatusReceived
from schemas.topics import INBOUND, STATUS
from tests.integration.ingress.conftest import DATA, Ingress, MakeIngress
from tests.support import read_topic

TENANT = "100000000000001"
PHONE, BSUID = "573001234567", "CO.1297408873021955"
NEW_PHONE, NEW_BSUID = "573009876543", "CO.5550001112223334"


def doc(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text())
    return loaded


def value(d: dict[str, Any]) -> dict[str, Any]:
    v: dict[str, Any] = d["entry"][0]["changes"][0]["value"]
    return v


def text_from(wa_id: str | None, user_id: str | None, ts: int, text: str = "hola") -> tuple[bytes, str]:
    """A text webhook carrying the ids given (a contact with wa_id only, user_id only, or both)."""
    d = doc("message_text")
    v = value(d)
    wamid = f"wamid.{uuid.uuid4().hex}"
    contact: dict[str, Any] = {"profile": {"name": "Valentina Gómez"}}
    msg: dict[str, Any] = {"id": wamid, "timestamp": str(ts), "type": "text", "text": {"body": text}}
    if wa_id:
        contact["wa_id"], msg["from"] = wa_id, wa_id
    if user_id:
        contact["user_id"], msg["from_user_id"] = user_id, user_id
    v["contacts"], v["messages"] = [contact], [msg]
    return json.dumps(d, ensure_ascii=False).encode(), wamid


def sample_with(name: str, **message: Any) -> bytes:
    d = doc(name)
    value(d)["messages"][0].update(message)
    return json.dumps(d, ensure_ascii=False).encode()


async def post(ingress: Ingress, body: bytes) -> None:
    r = await ingress.post_webhook(body)
    assert r.status_code == 200, r.text


def inbound(ingress: Ingress, expect: int) -> dict[str, MessageReceived]:
    records = read_topic(ingress.bootstrap, ingress.prefix + INBOUND, expect=expect)
    out: dict[str, MessageReceived] = {}
    for rec in records:
        e = rec.event()
        assert isinstance(e, MessageReceived) and rec.key == e.conversation
        out[e.payload.message_id] = e
    assert len(out) == expect
    return out


async def test_alternating_wa_id_only_and_both_ids_land_on_one_key(ingress: Ingress) -> None:
    sent = [text_from(PHONE, None, 1763740800), text_from(PHONE, BSUID, 1763740810),
            text_from(PHONE, None, 1763740820), text_from(None, BSUID, 1763740830), text_from(PHONE, BSUID, 1763740840)]
    for body, _ in sent:
        await post(ingress, body)
    events = inbound(ingress, 5)
    # The first id ever seen (the phone number, alone) is the key for good, whatever the later webhooks carry.
    assert {events[wamid].conversation for _, wamid in sent} == {f"{TENANT}:{PHONE}"}
    assert [events[w].payload.sender.user_id for _, w in sent] == [None, BSUID, None, BSUID, BSUID]  # raw ids kept
    assert (await ingress.store.identity(TENANT, "user_id", BSUID)).user == PHONE  # type: ignore[union-attr]
    assert ingress.metric("wapipe_identity_resolutions_total", {"outcome": "new"}) == 2
    assert ingress.metric("wapipe_identity_resolutions_total", {"outcome": "known"}) == 3


async def test_a_customer_first_seen_with_both_ids_is_keyed_by_the_bsuid(ingress: Ingress,
                                                                        redis_client: Any) -> None:
    both, phone_only = text_from(PHONE, BSUID, 1763740800), text_from(PHONE, None, 1763740810)
    await post(ingress, both[0])
    await redis_client.flushdb()  # the cache lost: the store is the durable copy
    await post(ingress, phone_only[0])
    events = inbound(ingress, 2)
    assert events[both[1]].conversation == events[phone_only[1]].conversation == f"{TENANT}:{BSUID}"


async def test_statuses_get_the_customers_key_and_teach_the_mapping(ingress: Ingress) -> None:
    body, _ = text_from(PHONE, None, 1763740800)
    await post(ingress, body)
    await post(ingress, (DATA / "status_sent.json").read_bytes())  # recipient_id + recipient_user_id
    [status] = read_topic(ingress.bootstrap, ingress.prefix + STATUS, expect=1)
    e = status.event()
    assert isinstance(e, StatusReceived) and status.key == e.conversation == f"{TENANT}:{PHONE}"
    later, wamid = text_from(None, BSUID, 1763740900)  # the BSUID alone, learnt from the status
    await post(ingress, later)
    assert inbound(ingress, 2)[wamid].conversation == f"{TENANT}:{PHONE}"


async def test_a_number_change_moves_the_conversation_to_the_new_identity(ingress: Ingress) -> None:
    first, w1 = text_from(PHONE, BSUID, 1763740800)
    await post(ingress, first)
    change = (DATA / "message_system_user_changed_number.json").read_bytes()
    await post(ingress, change)
    await post(ingress, change)  # Meta redelivers it: planned as done, nothing moves twice
    after, w2 = text_from(NEW_PHONE, NEW_BSUID, 1763741010)
    phone_only, w3 = text_from(NEW_PHONE, None, 1763741020)
    recycled, w4 = text_from(PHONE, None, 1763999999)  # the old number, months later: someone else
    for body in (after, phone_only, recycled):
        await post(ingress, body)
    records = read_topic(ingress.bootstrap, ingress.prefix + INBOUND, expect=6)
    system = [r.event() for r in records if r.event().payload.message_type == "system"]  # type: ignore[union-attr]
    events = {r.event().payload.message_id: r.event() for r in records}  # type: ignore[union-attr]

    assert events[w1].conversation == f"{TENANT}:{BSUID}"
    first_delivery, redelivery = system
    assert first_delivery.conversation == f"{TENANT}:{NEW_BSUID}"
    move = first_delivery.payload.identity_move  # type: ignore[union-attr]
    assert move is not None and (move.from_conversation, move.reason) == (f"{TENANT}:{BSUID}", "user_changed_number")
    assert redelivery.conversation == f"{TENANT}:{NEW_BSUID}" and redelivery.payload.identity_move is None  # type: ignore[union-attr]
    assert events[w2].conversation == events[w3].conversation == f"{TENANT}:{NEW_BSUID}"
    assert events[w4].conversation == f"{TENANT}:{PHONE}"  # a new person, a new conversation
    assert ingress.metric("wapipe_identity_resolutions_total", {"outcome": "moved"}) == 1


async def test_a_new_bsuid_keeps_a_key_that_is_the_phone_number(ingress: Ingress) -> None:
    first, _ = text_from(PHONE, None, 1763740800)
    second, _ = text_from(PHONE, BSUID, 1763740900)
    for body in (first, second):
        await post(ingress, body)
    await post(ingress, (DATA / "message_system_user_changed_user_id.json").read_bytes())
    new_id, wamid = text_from(None, "CO.7778889990001112", 1763741200)
    await post(ingress, new_id)
    events = inbound(ingress, 4)
    assert {e.conversation for e in events.values()} == {f"{TENANT}:{PHONE}"}
    assert all(e.payload.identity_move is None for e in events.values())
    old = await ingress.store.identity(TENANT, "user_id", BSUID)
    assert old is not None and old.retired_at is not None and old.user == PHONE


async def test_two_keys_found_to_be_one_customer_are_merged_into_the_older(ingress: Ingress) -> None:
    by_bsuid, w1 = text_from(None, BSUID, 1763740800)  # a username customer: no phone number
    by_phone, w2 = text_from(PHONE, None, 1763740900)  # the same person, before any webhook carried both
    both, w3 = text_from(PHONE, BSUID, 1763741000)
    for body in (by_bsuid, by_phone, both):
        await post(ingress, body)
    events = inbound(ingress, 3)
    assert events[w1].conversation == f"{TENANT}:{BSUID}" and events[w2].conversation == f"{TENANT}:{PHONE}"
    merged = events[w3]
    assert merged.conversation == f"{TENANT}:{BSUID}"
    move = merged.payload.identity_move
    assert move is not None and (move.from_conversation, move.reason) == (f"{TENANT}:{PHONE}", "merge")
    again, w4 = text_from(PHONE, None, 1763741100)
    await post(ingress, again)
    assert inbound(ingress, 4)[w4].conversation == f"{TENANT}:{BSUID}"


async def test_an_unreachable_identity_store_answers_503_so_meta_retries(make_ingress: MakeIngress,
                                                                         redis_client: Any) -> None:
    ingress: Ingress = await make_ingress()
    await ingress.store.close()
    await redis_client.flushdb()
    body, _ = text_from(PHONE, BSUID, 1763740800)
    r = await ingress.post_webhook(body)
    assert r.status_code == 503 and r.json() == {"error": "identity store unavailable, retry later"}
    assert read_topic(ingress.bootstrap, ingress.prefix + INBOUND, idle=1.0) == []
    assert ingress.metric("wapipe_webhook_requests_total", {"outcome": "identity_unavailable"}) == 1
