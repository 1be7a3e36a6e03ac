"""The event loop every service runs on: uvloop (libuv, in C) by default, or the standard library's with
`WAPIPE_EVENT_LOOP=asyncio`. Under load the services spend much of their CPU in socket writes and reads (Kafka is
librdkafka's threads, but Redis and HTTP are asyncio transports), which uvloop does in C: measured in turns on one
stack it took the CPU per reply of our processes to about 0.8x of the standard loop's (docs/benchmarks.md)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, Literal, TypeVar

T = TypeVar("T")
EventLoop = Literal["uvloop", "asyncio"]


def run(main: Coroutine[Any, Any, T], loop: EventLoop = "uvloop") -> T:
    """`asyncio.run(main)` on the chosen loop."""
    if loop == "uvloop":
        import uvloop

        return uvloop.run(main)
    return asyncio.run(main)


def uvicorn_options(loop: EventLoop) -> dict[str, str]:
    """uvicorn's loop and HTTP parser for the same choice: uvloop with httptools, or asyncio with h11."""
    return {"loop": "uvloop", "http": "httptools"} if loop == "uvloop" else {"loop": "asyncio", "http": "h11"}
