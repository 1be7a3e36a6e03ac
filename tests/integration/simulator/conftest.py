"""The simulator over real HTTP, plus a tiny ingress stand-in that records the webhooks it receives."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI, Request

from wapipe_tools.local.servers import free_port
from wapipe_tools.simulator.serve import BackgroundSimulator
from wapipe_tools.simulator.state import SimState


class Receiver:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/webhook"
        self.received: list[tuple[bytes, dict[str, str]]] = []
        app = FastAPI()

        @app.post("/webhook")
        async def webhook(request: Request) -> dict[str, Any]:
            self.received.append((await request.body(), dict(request.headers)))
            return {"ok": True}

        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def wait_for(self, n: int, timeout: float = 60.0) -> list[tuple[bytes, dict[str, str]]]:
        deadline = time.monotonic() + timeout
        while len(self.received) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.received)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.thread.start()
    while not r.server.started:
        time.sleep(0.02)
    yield r
    r.server.should_exit = True
    r.thread.join(5)


@pytest.fixture
def sim(receiver: Receiver) -> Iterator[BackgroundSimulator]:
    with BackgroundSimulator(SimState(ingress_url=receiver.url, status_delay_s=0.01)) as s:
        yield s
