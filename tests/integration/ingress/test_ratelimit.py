"""The /api/chat window on real Redis: 30 per rolling minute, Retry-After says when a slot frees up."""

from __future__ import annotations

from typing import Any

from services.ingress.ratelimit import Limit, Refused, hit, hit_all


async def test_sliding_window(redis_client: Any) -> None:
    for i in range(30):
        assert await hit(redis_client, "t", "c1", 30, now=1000.0 + i) is None
    assert await hit(redis_client, "t", "c1", 30, now=1040.0) == 20  # first hit (t=1000) leaves at 1060
    assert await hit(redis_client, "t", "c1", 30, now=1059.5) == 1
    assert await hit(redis_client, "t", "c1", 30, now=1060.5) is None  # the t=1000 slot expired
    assert await hit(redis_client, "t", "c2", 30, now=1040.0) is None  # other conversations unaffected


async def test_several_windows_admit_only_together(redis_client: Any) -> None:
    key, tenant = Limit("k", "key1", 3), Limit("t", "tenant1", 2)
    assert await hit_all(redis_client, [key, tenant], now=1000.0) is None
    assert await hit_all(redis_client, [key, tenant], now=1001.0) is None
    refused = await hit_all(redis_client, [key, tenant], now=1002.0)
    assert refused == Refused(("t",), 58.0)  # the tenant window is full, the key window still has room ...
    assert await hit_all(redis_client, [key, Limit("t", "tenant2", 2)], now=1003.0) is None  # ... one slot
    both = await hit_all(redis_client, [key, tenant], now=1004.0)
    assert both == Refused(("k", "t"), 56.0)  # both oldest hits (t=1000) leave at 1060
    assert await hit_all(redis_client, [key, tenant], now=1060.5) is None  # the first hits left both windows
