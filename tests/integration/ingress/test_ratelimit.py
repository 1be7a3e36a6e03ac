"""The /api/chat window on real Redis: 30 per rolling minute, Retry-After says when a slot frees up."""

from __future__ import annotations

from typing import Any

from services.ingress.ratelimit import hit


async def test_sliding_window(redis_client: Any) -> None:
    for i in range(30):
        assert await hit(redis_client, "t", "c1", 30, now=1000.0 + i) is None
    assert await hit(redis_client, "t", "c1", 30, now=1040.0) == 20  # first hit (t=1000) leaves at 1060
    assert await hit(redis_client, "t", "c1", 30, now=1059.5) == 1
    assert await hit(redis_client, "t", "c1", 30, now=1060.5) is None  # the t=1000 slot expired
    assert await hit(redis_client, "t", "c2", 30, now=1040.0) is None  # other conversations unaffected
