"""A conversation's state moving to the customer's new key, on the real Redis and a SQLite store."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from schemas.envelope import Conversation, conversation_key
from tests.support import unique
from wapipe.state.moves import ConversationMover
from wapipe.state.shadow import ShadowMode
from wapipe.state.window import ServiceWindow
from wapipe.store import ContextCache, HandoffEntry, Store, Turn, open_store

TENANT = "100000000000001"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = open_store(f"sqlite:///{tmp_path}/moves.db")
    await s.migrate()
    yield s
    await s.close()


class Recorded:
    def __init__(self) -> None:
        self.moves: list[tuple[Conversation, Conversation]] = []

    async def move(self, source: Conversation, target: Conversation) -> None:
        self.moves.append((source, target))


async def test_history_window_and_shadow_mode_follow_the_customer(redis_client: aioredis.Redis,
                                                                 store: Store) -> None:
    old_user, new_user = unique("CO."), unique("CO.")
    old, new = conversation_key(TENANT, old_user), conversation_key(TENANT, new_user)
    now = datetime.now(UTC)
    await store.append_turn(Turn(TENANT, old_user, now - timedelta(minutes=5), "customer", "hola", ("wamid.1",)))
    await store.append_turn(Turn(TENANT, old_user, now - timedelta(minutes=4), "assistant", "¡Hola!", ("w.2",)))
    await store.append_handoff(HandoffEntry(TENANT, old_user, now, "requested", "guardrails", "humano"))
    context = ContextCache(redis_client, store)
    assert len(await context.last_turns(TENANT, old_user)) == 2  # cached
    window, shadow = ServiceWindow(redis_client), ShadowMode(redis_client)
    await window.touch(old, now - timedelta(minutes=4))
    await window.touch(new, now - timedelta(hours=3))  # an older clock on the new key loses
    await shadow.activate(old, "humano", "guardrails", ttl_s=600)
    extra = Recorded()

    moved = await ConversationMover(redis_client, store, [extra]).move(old, new)

    assert moved == 3
    assert [t.text for t in await context.last_turns(TENANT, new_user)] == ["hola", "¡Hola!"]
    assert await context.last_turns(TENANT, old_user) == []  # the cached copy went too
    assert [h.action for h in await store.handoffs(TENANT, new_user)] == ["requested"]
    last = await window.last_inbound(new)
    assert last is not None and abs((last - (now - timedelta(minutes=4))).total_seconds()) < 1
    assert await window.last_inbound(old) is None
    assert await shadow.is_active(new) and not await shadow.is_active(old)
    assert 590 <= await shadow.ttl(new) <= 600
    assert [a.conversation for a in await shadow.active(TENANT) if a.conversation in (old, new)] == [new]
    assert extra.moves == [(Conversation(TENANT, old_user), Conversation(TENANT, new_user))]

    assert await ConversationMover(redis_client, store, [extra]).move(old, new) == 0  # a retry moves nothing


async def test_a_newer_clock_and_a_handoff_already_on_the_new_key_stay(redis_client: aioredis.Redis,
                                                                        store: Store) -> None:
    old, new = conversation_key(TENANT, unique("57")), conversation_key(TENANT, unique("57"))
    window, shadow = ServiceWindow(redis_client), ShadowMode(redis_client)
    now = datetime.now(UTC)
    await window.touch(old, now - timedelta(hours=5))
    await window.touch(new, now - timedelta(minutes=1))
    await shadow.activate(old, "humano", "guardrails", ttl_s=60)
    await shadow.activate(new, "queja", "guardrails", ttl_s=3600)
    started = time.time()
    await ConversationMover(redis_client, store).move(old, new)
    last = await window.last_inbound(new)
    assert last is not None and (now - last).total_seconds() < 120
    assert await shadow.ttl(new) > 3000 - (time.time() - started)
    assert not await shadow.is_active(old)
    with pytest.raises(ValueError):
        await ConversationMover(redis_client, store).move(old, conversation_key("100000000000002", "5731"))
