"""200 only once the broker confirmed every write of a webhook: the raw body, each event and each DLQ record of
an unreadable part. Over a fake of ingress's own publishing port, so each write can be made to fail."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Sequence
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry

from schemas.meta.signature import webhook_headers
from schemas.topics import INBOUND, RAW_WEBHOOKS, dlq_name
from services.ingress.app import create_app
from services.ingress.config import IngressSettings
from wapipe.runtime.producer import DeliveryFailed
from wapipe.runtime.types import Emit

SECRET = "unit-app-secret-5ab1"
DATA = Path(__file__).parents[2] / "data" / "meta" / "v25.0"
PREFIX = "u."
RAW, DLQ = PREFIX + RAW_WEBHOOKS, dlq_name(PREFIX + RAW_WEBHOOKS)


class FakePublisher:
    """Confirms writes unless their topic is in `failing`; records the order in which writes were confirmed."""

    topic_prefix = PREFIX

    def __init__(self, failing: Sequence[str] = ()) -> None:
        self.failing = set(failing)
        self.confirmed: list[tuple[str, bytes, dict[str, bytes]]] = []

    async def send(self, topic: str, value: bytes, key: str | bytes | None = None,
                   headers: Sequence[tuple[str, bytes]] | None = None) -> tuple[int, int]:
        await asyncio.sleep(0)
        if topic in self.failing:
            raise DeliveryFailed(f"{topic}: refused")
        self.confirmed.append((topic, value, dict(headers or ())))
        return 3, 41

    async def publish_all(self, emits: Sequence[Emit]) -> None:
        for e in emits:
            await self.send(self.topic_prefix + e.topic, e.event.model_dump_json().encode())

    def topics(self) -> list[str]:
        return [t for t, _, _ in self.confirmed]


def body_with_one_unreadable() -> bytes:
    doc = json.loads((DATA / "message_text.json").read_text())
    msgs = doc["entry"][0]["changes"][0]["value"]["messages"]
    msgs.append({**copy.deepcopy(msgs[0]), "id": msgs[0]["id"] + "2", "timestamp": "pronto"})
    return json.dumps(doc).encode()


async def post(publisher: FakePublisher, body: bytes) -> httpx.Response:
    s = IngressSettings(_env_file=None, meta_app_secret=SECRET, ingress_publish_timeout_s=2.0)  # type: ignore[call-arg]
    app = create_app(s, producer=publisher, registry=CollectorRegistry())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ingress") as client:
        return await client.post("/webhook", content=body, headers=webhook_headers(body, SECRET))


async def test_all_writes_confirmed_gives_200_and_the_dlq_record_names_the_raw_one() -> None:
    publisher = FakePublisher()
    body = body_with_one_unreadable()
    r = await post(publisher, body)
    assert (r.status_code, r.json()) == (200, {"events": 1, "unreadable": 1})
    assert publisher.topics()[0] == RAW  # confirmed before the DLQ record that points at it
    assert sorted(publisher.topics()) == sorted([RAW, PREFIX + INBOUND, DLQ])
    [(_, value, headers)] = [c for c in publisher.confirmed if c[0] == DLQ]
    assert headers["dlq.original.topic"] == RAW.encode()
    assert (headers["dlq.original.partition"], headers["dlq.original.offset"]) == (b"3", b"41")
    assert json.loads(value)["timestamp"] == "pronto"
    assert [c[1] for c in publisher.confirmed if c[0] == RAW] == [body]


@pytest.mark.parametrize("failing", [RAW, DLQ, PREFIX + INBOUND])
async def test_any_unconfirmed_write_gives_503_so_meta_retries(failing: str) -> None:
    r = await post(FakePublisher([failing]), body_with_one_unreadable())
    assert r.status_code == 503 and "retry" in r.json()["error"]


@pytest.mark.parametrize("failing", [RAW, PREFIX + INBOUND])
async def test_without_unreadable_parts_the_raw_body_and_events_are_both_required(failing: str) -> None:
    r = await post(FakePublisher([failing]), (DATA / "message_text.json").read_bytes())
    assert r.status_code == 503


async def test_a_body_with_nothing_to_publish_still_logs_the_raw_body() -> None:
    publisher = FakePublisher()
    body = (DATA / "field_unknown_business_capability_update.json").read_bytes()
    r = await post(publisher, body)
    assert (r.status_code, r.json()) == (200, {"events": 0})
    assert publisher.confirmed[0][:2] == (RAW, body) and len(publisher.confirmed) == 1

