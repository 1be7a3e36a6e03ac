"""Results made on a worker thread, handed back to the event loops awaiting them: one `call_soon_threadsafe` per
loop for a whole batch (each call wakes that loop), not one per result. Used by the Kafka producer's delivery
reports and the SQLite writer's group commits."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

# (the loop awaiting it, its future, the result; an exception fails the future)
Handed = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Any]


def hand_over(results: Iterable[Handed]) -> None:
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Any]]] = {}
    for loop, future, outcome in results:
        by_loop.setdefault(loop, []).append((future, outcome))
    for loop, mine in by_loop.items():
        try:
            loop.call_soon_threadsafe(_settle_all, mine)
        except RuntimeError:  # that loop is closed: nobody awaits these results any more
            pass


def settle(future: asyncio.Future[Any], outcome: Any) -> None:
    """On the future's own loop. A future already done (its caller was cancelled) is left as it is."""
    if future.done():
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


def _settle_all(settled: list[tuple[asyncio.Future[Any], Any]]) -> None:
    for future, outcome in settled:
        settle(future, outcome)
