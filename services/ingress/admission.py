"""How many bytes of webhook bodies one process holds at once, reserved before a body is read.

A request reserves its declared Content-Length (the size limit when it declares none, i.e. chunked) and gives it
back when its answer is decided. What does not fit is refused with 503, never queued: Meta retries, and an
upload that cannot be admitted costs nothing but its headers. Counting bytes rather than requests keeps the
memory bound exact (budget = N bodies of the maximum size) without limiting how many ordinary 1-2 KB deliveries
run at once; uvicorn's `limit_concurrency` bounds their number.
"""

from __future__ import annotations


class BodyBudget:
    """Not thread-safe, and needs no lock: reserve and release run on the event loop with no await inside."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.held = 0

    def try_reserve(self, size: int) -> bool:
        if self.held + size > self.capacity:
            return False
        self.held += size
        return True

    def release(self, size: int) -> None:
        self.held -= size
