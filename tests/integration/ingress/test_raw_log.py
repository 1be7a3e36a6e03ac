"""The raw webhook log on the real broker: every accepted body byte for byte, unreadable parts on its DLQ with
their raw JSON and the error, the rest of the POST published and answered 200."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

from schemas.events import MessageReceived
from schemas.topics import ACCOUNT, INBOUND, RAW_WEBHOOKS, dlq_name
from tests.integration.ingress.conftest import Ingress, sample
from tests.support import read_topic

TENANT = "100000000000001"
WABA = "102290129340398"


def meta_bytes(doc: dict[str, Any]) -> bytes:
    """Serialised as Meta does (compact, `\\/` escaped, non-ASCII as \\u escapes)."""
    return json.dumps(doc, separators=(",", ":")).replace("/", "\\/").encode()


def good_and_bad() -> tuple[dict[str, Any], dict[str, Any]]:
    """A POST whose first message cannot be read (its timestamp names no instant) and whose second can."""
    doc = json.loads(sample("message_text"))
    msgs = doc["entry"][0]["changes"][0]["value"]["messages"]
    good = {**copy.deepcopy(msgs[0]), "id": msgs[0]["id"] + "G", "text": {"body": "¿a qué hora abren?"}}
    msgs[0]["timestamp"] = "ayer a las 3"
    msgs.append(good)
    return doc, msgs[0]


async def test_the_raw_topic_holds_each_accepted_body_byte_for_byte(ingress: Ingress) -> None:
    before = datetime.now(UTC)
    bodies = [sample("message_text"), sample("template_status_paused")]
    for body in bodies:
        assert (await ingress.post_webhook(body)).status_code == 200
    records = sorted(read_topic(ingress.bootstrap, ingress.prefix + RAW_WEBHOOKS, expect=2),
                     key=lambda r: r.timestamp_ms)
    assert [r.value for r in records] == bodies
    assert [r.key for r in records] == [TENANT, WABA]  # the business number, else the account
    for r in records:
        assert r.headers["signature-verified"] == b"true"
        assert before <= datetime.fromisoformat(r.headers["received-at"].decode()) <= datetime.now(UTC)


async def test_refused_bodies_never_reach_the_raw_log(ingress: Ingress) -> None:
    body = sample("message_text")
    assert (await ingress.post_webhook(body, headers={"Content-Type": "application/json"})).status_code == 401
    assert (await ingress.post_webhook(b'{"object":"page","entry":[]}')).status_code == 400
    assert (await ingress.post_webhook(b"{not json")).status_code == 400
    assert read_topic(ingress.bootstrap, ingress.prefix + RAW_WEBHOOKS, idle=1.0) == []


async def test_one_unreadable_message_goes_to_the_dlq_and_the_good_one_is_published(ingress: Ingress) -> None:
    doc, bad = good_and_bad()
    body = meta_bytes(doc)
    r = await ingress.post_webhook(body)
    assert r.status_code == 200, r.text
    assert r.json() == {"events": 1, "unreadable": 1}

    [inbound] = read_topic(ingress.bootstrap, ingress.prefix + INBOUND, expect=1)
    event = inbound.event()
    assert isinstance(event, MessageReceived) and event.payload.text == "¿a qué hora abren?"

    raw_topic = ingress.prefix + RAW_WEBHOOKS
    [dead] = read_topic(ingress.bootstrap, dlq_name(raw_topic), expect=1)
    assert json.loads(dead.value) == bad  # the part's raw JSON, as Meta sent it
    assert dead.key == TENANT
    h = {k: v.decode() for k, v in dead.headers.items()}
    assert h["dlq.service"] == "ingress" and h["webhook.part"] == "message" and h["webhook.field"] == "messages"
    assert h["webhook.path"] == "entry[0].changes[0].value.messages[0]"
    assert "timestamp" in h["dlq.error.message"] and "epoch seconds" in h["dlq.error.message"]
    assert "573001234567" not in h["dlq.error.message"]
    # dlq.original.* name the raw record holding the whole body
    assert h["dlq.original.topic"] == raw_topic
    [raw] = [x for x in read_topic(ingress.bootstrap, raw_topic, expect=1)
             if (x.partition, x.offset) == (int(h["dlq.original.partition"]), int(h["dlq.original.offset"]))]
    assert raw.value == body
    assert ingress.metric("wapipe_webhook_unreadable_parts_total", {"part": "message"}) == 1
    assert ingress.metric("wapipe_webhook_requests_total", {"outcome": "ok"}) == 1


async def test_an_integer_timestamp_is_accepted_as_the_instant_it_names(ingress: Ingress) -> None:
    doc = json.loads(sample("message_text"))
    doc["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = 1763740800
    r = await ingress.post_webhook(meta_bytes(doc))
    assert r.status_code == 200 and r.json() == {"events": 1}
    e = read_topic(ingress.bootstrap, ingress.prefix + INBOUND, expect=1)[0].event()
    assert isinstance(e, MessageReceived) and e.occurred_at == datetime(2025, 11, 21, 16, tzinfo=UTC)
    assert read_topic(ingress.bootstrap, dlq_name(ingress.prefix + RAW_WEBHOOKS), idle=0.5) == []


async def test_a_body_of_nearly_the_size_limit_is_logged_whole(ingress: Ingress) -> None:
    doc = json.loads(sample("field_unknown_business_capability_update"))
    doc["entry"][0]["changes"][0]["value"]["padding"] = "x" * (ingress.settings.ingress_max_body_bytes - 4096)
    body = meta_bytes(doc)
    assert len(body) > 2 * 1024 * 1024
    r = await ingress.post_webhook(body)
    assert r.status_code == 200, r.text
    [raw] = read_topic(ingress.bootstrap, ingress.prefix + RAW_WEBHOOKS, expect=1, timeout=20)
    assert raw.value == body and raw.key == WABA
    assert read_topic(ingress.bootstrap, ingress.prefix + ACCOUNT, idle=0.5) == []
