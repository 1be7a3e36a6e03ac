"""The event loop every service runs on: the standard library's, or uvloop (libuv, in C) with
`WAPIPE_EVENT_LOOP=uvloop`. Under load the services spend much of their CPU in socket writes and reads (Kafka is
librdkafka's threads, but Redis and HTTP are asyncio transports), which uvloop does in C; on the shared machine
of docs/benchmarks.md its gain did not stand out of the noise, so it stays opt-in until measured on a quiet one."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, Literal, TypeVar

T = TypeVar("T")
EventLoop = Literal["uvloop", "asyncio"]


def run(main: Coroutine[Any, Any, T], loop: EventLoop = "asyncio") -> T:
    """`asyncio.run(main)` on the chosen loop."""
    if loop == "uvloop":
        import uvloop

        return uvloop.run(main)
    return asyncio.run(main)


def uvicorn_options(loop: EventLoop) -> dict[str, str]:
    """uvicorn's loop and HTTP parser for the same choice: uvloop with httptools, or asyncio with h11."""
    return {"loop": "uvloop", "http": "httptools"} if loop == "uvloop" else {"loop": "asyncio", "http": "h11"}
