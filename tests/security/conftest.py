"""Shared pieces of the security suite: an ingress on the real broker driven from synchronous property tests, and
a uvicorn server in a background thread (so schemathesis and the secret-hygiene runs hit real sockets)."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from schemas.meta.signature import webhook_headers
from services.ingress.app import create_app
from services.ingress.config import IngressSettings
from wapipe.runtime.producer import Producer

SECRET = "security-suite-app-secret-5b1e"
VERIFY = "security-suite-verify-token-83"
API_KEY = "security-suite-api-chat-key-27"
DATA = Path(__file__).parents[1] / "data" / "meta" / "v25.0"


def ingress_settings(bootstrap: str, prefix: str, redis_url: str = "redis://127.0.0.1:1/0",
                     **overrides: Any) -> IngressSettings:
    values: dict[str, Any] = {"kafka_bootstrap_servers": bootstrap, "topic_prefix": prefix, "redis_url": redis_url,
                              "meta_app_secret": SECRET, "meta_verify_token": VERIFY, "api_chat_key": API_KEY}
    return IngressSettings(_env_file=None, **(values | overrides))


def sample_doc(name: str = "message_text") -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text())
    return doc


def meta_bytes(doc: Any, *, ascii_only: bool = True) -> bytes:
    """Serialised the way Meta does: compact, `\\/` escaped, non-ASCII as \\u escapes (or raw UTF-8)."""
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=ascii_only).replace("/", "\\/").encode()


def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return webhook_headers(body, secret)


class SyncIngress:
    """The real ingress app with a real Producer, driven over ASGI from synchronous (hypothesis) code.

    Hypothesis drives plain functions, so the app runs on a loop this object owns; the producer settles its
    futures on whichever loop awaits them.
    """

    def __init__(self, bootstrap: str, prefix: str) -> None:
        self.bootstrap, self.prefix = bootstrap, prefix
        self.loop = asyncio.new_event_loop()
        self.producer = Producer(bootstrap, topic_prefix=prefix, delivery_timeout_s=5)
        self.registry = CollectorRegistry()
        self.app = create_app(ingress_settings(bootstrap, prefix), producer=self.producer, registry=self.registry)
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://ingress")

    def post(self, body: bytes | Any, headers: dict[str, str]) -> httpx.Response:
        return self.loop.run_until_complete(self.client.post("/webhook", content=body, headers=headers))

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.loop.run_until_complete(self.client.get(path, **kw))

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()
        self.producer.close(2)


@pytest.fixture
def sync_ingress(kafka_bootstrap: str, topic_prefix: str) -> Iterator[SyncIngress]:
    ing = SyncIngress(kafka_bootstrap, topic_prefix)
    try:
        yield ing
    finally:
        ing.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


AppFactory = Callable[[], AbstractAsyncContextManager[FastAPI]]


class ThreadedServer:
    """uvicorn on 127.0.0.1:<free port> in a thread with its own loop; `factory` builds the app (and its Redis,
    producer, store) inside that loop and closes them when the server stops."""

    def __init__(self, factory: AppFactory) -> None:
        self.factory = factory
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.app: FastAPI | None = None
        self._server: uvicorn.Server | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), name="sec-server", daemon=True)

    async def _main(self) -> None:
        try:
            async with self.factory() as app:
                self.app = app
                self._server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_config=None,
                                                             lifespan="on", access_log=False))
                task = asyncio.create_task(self._server.serve())
                while not self._server.started and not task.done():
                    await asyncio.sleep(0.02)
                self._started.set()
                await task
        except BaseException as e:  # surfaced to the test thread by start()
            self._error = e
            self._started.set()

    def start(self) -> ThreadedServer:
        self._thread.start()
        self._started.wait(30)
        if self._error is not None or self._server is None or not self._server.started:
            raise RuntimeError(f"server did not start: {self._error!r}")
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        self._thread.join(15)


async def settle(*aws: Awaitable[object]) -> None:
    await asyncio.gather(*aws, return_exceptions=True)
