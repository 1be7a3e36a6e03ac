"""Unauthenticated load on a real socket: uvicorn with the production options, the real broker behind.

Uploads are written by hand so a test decides when (or whether) a body completes: the refusals that must come
before the body is read are checked against bodies that never finish, with a body deadline far longer than the
test waits, so only a refusal that did not read the body can answer in time.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from prometheus_client import CollectorRegistry

from schemas.topics import INBOUND
from services.ingress.app import create_app, server_options
from tests.integration.ingress.conftest import sample, settings_for, signed
from tests.support import read_topic
from wapipe.runtime.producer import Producer
from wapipe_tools.local.servers import free_port

WAIT_S = 30.0  # how long a test waits for an answer; the body deadline is longer unless the test is about it
NEVER_S = 600.0
IN_FLIGHT = "wapipe_webhook_body_bytes_in_flight"


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


class Upload:
    """One HTTP/1.1 connection written by hand."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Upload:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def head(self, method: str, path: str, headers: dict[str, str]) -> None:
        lines = [f"{method} {path} HTTP/1.1", "Host: ingress", *(f"{k}: {v}" for k, v in headers.items())]
        await self.send(("\r\n".join(lines) + "\r\n\r\n").encode())

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def response(self) -> Response:
        head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), WAIT_S)
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines if h)}
        body = await asyncio.wait_for(self.reader.readexactly(int(headers.get("content-length", "0"))), WAIT_S)
        return Response(int(status_line.split()[1]), headers, body)

    async def closed_by_server(self) -> bool:
        return await asyncio.wait_for(self.reader.read(), WAIT_S) == b""

    def close(self) -> None:
        self.writer.close()


@dataclass
class Served:
    port: int
    registry: CollectorRegistry
    bootstrap: str
    prefix: str

    def metric(self, name: str, labels: dict[str, str] | None = None) -> float:
        return self.registry.get_sample_value(name, labels or {}) or 0.0

    async def wait_for(self, condition: Callable[[], bool]) -> None:
        deadline = time.monotonic() + WAIT_S
        while not condition():
            assert time.monotonic() < deadline, "condition not reached"
            await asyncio.sleep(0.02)

    async def post(self, body: bytes, headers: dict[str, str]) -> Response:
        up = await Upload.open(self.port)
        try:
            await up.head("POST", "/webhook", {**headers, "Content-Length": str(len(body))})
            await up.send(body)
            return await up.response()
        finally:
            up.close()

    async def get(self, path: str) -> Response:
        up = await Upload.open(self.port)
        try:
            await up.head("GET", path, {"Connection": "close"})
            return await up.response()
        finally:
            up.close()


Serve = Callable[..., Awaitable[Served]]


@pytest.fixture
async def serve(kafka_bootstrap: str, topic_prefix: str, redis_url: str, redis_client: Any,
                tmp_path: Path) -> AsyncIterator[Serve]:
    """The ingress app under uvicorn on a free port, configured as `main` configures it (its identity map's store
    in a fresh SQLite file)."""
    running: list[tuple[uvicorn.Server, asyncio.Task[None], Producer]] = []

    async def start(**overrides: Any) -> Served:
        s = settings_for(kafka_bootstrap, topic_prefix, redis_url, ingress_port=free_port(),
                         store_url=f"sqlite:///{tmp_path}/ingress.db", **overrides)
        producer = Producer(kafka_bootstrap, topic_prefix=topic_prefix, delivery_timeout_s=5)
        registry = CollectorRegistry()
        app = create_app(s, producer=producer, redis=redis_client, registry=registry)
        server = uvicorn.Server(uvicorn.Config(app, **server_options(s), access_log=False))
        task = asyncio.create_task(server.serve())
        running.append((server, task, producer))
        deadline = time.monotonic() + WAIT_S
        while not server.started:
            assert not task.done() and time.monotonic() < deadline, "uvicorn did not start"
            await asyncio.sleep(0.02)
        return Served(s.ingress_port, registry, kafka_bootstrap, topic_prefix)

    yield start
    for server, task, producer in running:
        server.should_exit = True
        await asyncio.wait_for(task, WAIT_S)
        producer.close(2)


def message(n: int) -> bytes:
    """The text sample with its own message id, serialised as Meta does."""
    doc = json.loads(sample("message_text"))
    doc["entry"][0]["changes"][0]["value"]["messages"][0]["id"] += f".{n}"
    return json.dumps(doc, separators=(",", ":")).encode()


async def test_unsigned_post_refused_without_reading_the_body(serve: Serve) -> None:
    ing = await serve(ingress_body_read_timeout_s=NEVER_S)
    up = await Upload.open(ing.port)
    try:
        await up.head("POST", "/webhook", {"Content-Type": "application/json", "Content-Length": "1000000"})
        await up.send(b'{"object":"whatsapp_business_account","entry":[')  # ...and the rest never comes
        r = await up.response()
        assert r.status == 401 and json.loads(r.body) == {"error": "missing X-Hub-Signature-256"}
        assert r.headers["connection"] == "close" and await up.closed_by_server()
    finally:
        up.close()
    assert ing.metric("wapipe_webhook_requests_total", {"outcome": "unsigned"}) == 1


async def test_declared_oversize_refused_without_reading_the_body(serve: Serve) -> None:
    ing = await serve(ingress_body_read_timeout_s=NEVER_S)
    up = await Upload.open(ing.port)
    try:
        await up.head("POST", "/webhook", {**signed(b"x"), "Content-Length": str(3 * 1024 * 1024 + 1)})
        await up.send(b'{"object":')
        r = await up.response()
        assert r.status == 413 and await up.closed_by_server()
    finally:
        up.close()
    assert ing.metric("wapipe_webhook_requests_total", {"outcome": "too_large"}) == 1


async def test_chunked_body_cut_off_once_past_the_cap(serve: Serve) -> None:
    ing = await serve(ingress_body_read_timeout_s=NEVER_S, ingress_max_body_bytes=1000)
    up = await Upload.open(ing.port)
    try:
        await up.head("POST", "/webhook", {**signed(b"x"), "Transfer-Encoding": "chunked"})
        for _ in range(3):  # 1,800 bytes, and the body is never terminated
            await up.send(b"258\r\n" + b" " * 600 + b"\r\n")
        r = await up.response()
        assert r.status == 413 and await up.closed_by_server()
    finally:
        up.close()


async def test_stalled_body_gets_408_and_the_connection_closed(serve: Serve) -> None:
    ing = await serve(ingress_body_read_timeout_s=0.5)
    body = message(1)
    up = await Upload.open(ing.port)
    try:
        await up.head("POST", "/webhook", {**signed(body), "Content-Length": str(len(body))})
        await up.send(body[: len(body) // 2])
        r = await up.response()
        assert r.status == 408 and r.headers["connection"] == "close" and await up.closed_by_server()
    finally:
        up.close()
    assert ing.metric("wapipe_webhook_requests_total", {"outcome": "body_timeout"}) == 1
    await ing.wait_for(lambda: ing.metric(IN_FLIGHT) == 0)  # its reservation is given back
    assert read_topic(ing.bootstrap, ing.prefix + INBOUND, idle=0.5) == []


async def test_body_bytes_in_flight_are_bounded_and_the_rest_refused_unread(serve: Serve) -> None:
    bodies = [message(i) for i in range(3)]  # the same length
    size = len(bodies[0])
    ing = await serve(ingress_max_body_bytes=size, ingress_max_body_bytes_in_flight=2 * size,
                      ingress_body_read_timeout_s=NEVER_S)
    held = [await Upload.open(ing.port) for _ in range(2)]
    try:
        for up, body in zip(held, bodies, strict=False):  # two uploads halfway through take the whole budget
            await up.head("POST", "/webhook", {**signed(body), "Content-Length": str(size)})
            await up.send(body[: size // 2])
        await ing.wait_for(lambda: ing.metric(IN_FLIGHT) == 2 * size)

        third = bodies[2]
        refused = await ing.post(third, signed(third))
        assert refused.status == 503 and refused.headers["connection"] == "close"
        assert json.loads(refused.body) == {"error": "too many webhooks in flight, retry later"}
        assert (await ing.get("/healthz")).status == 200  # probes are not held up by webhook uploads

        for up, body in zip(held, bodies, strict=False):  # the held uploads finish and are accepted
            await up.send(body[size // 2:])
            assert (await up.response()).status == 200
    finally:
        for up in held:
            up.close()
    assert len(read_topic(ing.bootstrap, ing.prefix + INBOUND, expect=2)) == 2
    assert (await ing.post(third, signed(third))).status == 200  # room again: Meta's retry gets in
    assert ing.metric("wapipe_webhook_requests_total", {"outcome": "overloaded"}) == 1


async def test_a_chunked_upload_reserves_the_whole_size_limit(serve: Serve) -> None:
    body = message(1)
    size = len(body)
    ing = await serve(ingress_max_body_bytes=2 * size, ingress_max_body_bytes_in_flight=2 * size,
                      ingress_body_read_timeout_s=NEVER_S)
    up = await Upload.open(ing.port)
    try:
        await up.head("POST", "/webhook", {**signed(body), "Transfer-Encoding": "chunked"})
        await up.send(b"%x\r\n%s\r\n" % (10, body[:10]))  # no length declared: it may grow to the limit
        await ing.wait_for(lambda: ing.metric(IN_FLIGHT) == 2 * size)
        other = message(2)
        assert (await ing.post(other, signed(other))).status == 503
        await up.send(b"%x\r\n%s\r\n0\r\n\r\n" % (size - 10, body[10:]))
        assert (await up.response()).status == 200
    finally:
        up.close()
    assert (await ing.post(other, signed(other))).status == 200


async def test_connection_limit_answers_503_beyond_it(serve: Serve) -> None:
    ing = await serve(ingress_max_connections=3, ingress_body_read_timeout_s=NEVER_S)
    body = message(1)
    held = [await Upload.open(ing.port) for _ in range(2)]
    try:
        for up in held:
            await up.head("POST", "/webhook", {**signed(body), "Content-Length": str(len(body))})
            await up.send(body[:10])
        await ing.wait_for(lambda: ing.metric(IN_FLIGHT) == 2 * len(body))
        over = await ing.get("/healthz")  # the third connection reaches uvicorn's limit
        assert over.status == 503 and b"error" not in over.body  # uvicorn's own answer, before the app
    finally:
        for up in held:
            up.close()
    await ing.wait_for(lambda: ing.metric(IN_FLIGHT) == 0)
    assert (await ing.get("/healthz")).status == 200
