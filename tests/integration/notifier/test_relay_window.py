"""The relay window on real Redis: a bounded number of relays per conversation, redeliveries admitted again."""

from __future__ import annotations

from typing import Any

from services.notifier.state import RedisNotifierState


async def test_relays_per_conversation_in_a_sliding_window(redis_client: Any) -> None:
    state = RedisNotifierState(redis_client)
    conv, other = "100000000000001:573001234567", "100000000000001:573009999999"
    assert [await state.allow_relay(conv, f"m{i}", 1000.0 + i, 3, 600) for i in range(5)] == \
        [True, True, True, False, False]
    assert await state.allow_relay(conv, "m1", 1010.0, 3, 600)  # a redelivery of a relayed message
    assert await state.allow_relay(other, "o1", 1010.0, 3, 600)  # its own window
    assert not await state.allow_relay(conv, "m5", 1599.0, 3, 600)
    assert await state.allow_relay(conv, "m6", 1600.5, 3, 600)  # the first relay (t=1000) left the window
