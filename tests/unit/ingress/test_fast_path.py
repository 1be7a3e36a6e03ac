"""POST /webhook is served by `WebhookFastPath`, past FastAPI's router; everything else is FastAPI's as before,
and an unhandled error still comes back as Starlette's 500."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import httpx
import pytest
from fastapi import Request, Response
from prometheus_client import CollectorRegistry

from schemas.meta.signature import webhook_headers
from services.ingress import webhook
from services.ingress.app import create_app
from services.ingress.config import IngressSettings
from wapipe.runtime.types import Emit

SECRET = "unit-app-secret-5ab1"
BODY = (Path(__file__).parents[2] / "data" / "meta" / "v25.0" / "message_text.json").read_bytes()


class Publisher:
    topic_prefix = "u."

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.topics: list[str] = []

    async def send(self, topic: str, value: bytes, key: str | bytes | None = None,
                   headers: Sequence[tuple[str, bytes]] | None = None) -> tuple[int, int]:
        await asyncio.sleep(0)
        if self.error is not None:
            raise self.error
        self.topics.append(topic)
        return 0, len(self.topics)

    async def publish_all(self, emits: Sequence[Emit]) -> None:
        for e in emits:
            await self.send(self.topic_prefix + e.topic, e.event.model_dump_json().encode())


def client(publisher: Publisher) -> httpx.AsyncClient:
    s = IngressSettings(_env_file=None, meta_app_secret=SECRET, meta_verify_token="verify-token-0123456789",  # type: ignore[call-arg]
                        ingress_publish_timeout_s=2.0)
    app = create_app(s, producer=publisher, registry=CollectorRegistry())
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                             base_url="http://ingress")


async def test_a_delivery_is_answered_by_the_fast_path_not_the_router(monkeypatch: pytest.MonkeyPatch) -> None:
    served: list[str] = []
    original = webhook.receive

    async def spy(request: Request) -> Response:  # the router keeps the original: only the fast path sees this
        served.append(request.url.path)
        return await original(request)

    monkeypatch.setattr(webhook, "receive", spy)
    publisher = Publisher()
    async with client(publisher) as c:
        r = await c.post("/webhook", content=BODY, headers=webhook_headers(BODY, SECRET))
        unsigned = await c.post("/webhook", content=BODY)
    assert (r.status_code, r.json()) == (200, {"events": 1})
    assert unsigned.status_code == 401
    assert served == ["/webhook", "/webhook"]
    assert sorted(publisher.topics) == ["u.wa.inbound.v1", "u.wa.webhooks.raw.v1"]


async def test_other_methods_and_paths_are_fastapis() -> None:
    async with client(Publisher()) as c:
        challenge = await c.get("/webhook", params={"hub.mode": "subscribe", "hub.challenge": "42",
                                                    "hub.verify_token": "verify-token-0123456789"})
        put = await c.put("/webhook", content=b"{}")
        schema = (await c.get("/openapi.json")).json()
        health = await c.get("/healthz")
    assert (challenge.status_code, challenge.text) == (200, "42")
    assert put.status_code == 405
    assert "post" in schema["paths"]["/webhook"]
    assert health.json() == {"status": "ok"}


async def test_an_unhandled_error_is_a_500() -> None:
    async with client(Publisher(error=RuntimeError("driver bug"))) as c:
        r = await c.post("/webhook", content=BODY, headers=webhook_headers(BODY, SECRET))
    assert r.status_code == 500
