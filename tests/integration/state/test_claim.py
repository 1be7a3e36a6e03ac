"""Claim once on the real Redis: of claimants racing for a key exactly one wins, its owner may claim again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from tests.support import unique
from wapipe.state.claim import claim_once

ROUNDS = 200


@pytest.fixture
async def other_client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    """A second client with its own connections, as a second replica would have."""
    async with aioredis.from_url(redis_url) as client:
        yield client


async def test_of_two_claimants_at_once_exactly_one_wins(redis_client: aioredis.Redis,
                                                         other_client: aioredis.Redis) -> None:
    keys = [unique("wapipe:test:claim:") for _ in range(ROUNDS)]
    results = [await asyncio.gather(claim_once(redis_client, k, "replica-a", 60),
                                    claim_once(other_client, k, "replica-b", 60)) for k in keys]
    assert all(a != b for a, b in results)  # exactly one of each pair
    winners = [("replica-a" if a else "replica-b") for a, _ in results]
    assert [await redis_client.get(k) for k in keys] == [w.encode() for w in winners]


async def test_of_many_claimants_at_once_exactly_one_wins(redis_client: aioredis.Redis,
                                                          other_client: aioredis.Redis) -> None:
    key, clients = unique("wapipe:test:claim:"), (redis_client, other_client)
    results = await asyncio.gather(*(claim_once(clients[i % 2], key, f"owner-{i}", 60) for i in range(32)))
    assert results.count(True) == 1
    assert await redis_client.get(key) == f"owner-{results.index(True)}".encode()


async def test_the_same_owner_claiming_again_succeeds_even_at_once(redis_client: aioredis.Redis,
                                                                   other_client: aioredis.Redis) -> None:
    key = unique("wapipe:test:claim:")
    assert await claim_once(redis_client, key, "wamid.A", 60)
    assert await claim_once(redis_client, key, "wamid.A", 60)  # a redelivery of the same event
    assert not await claim_once(redis_client, key, "wamid.B", 60)
    again = await asyncio.gather(*(claim_once(c, key, "wamid.A", 60) for c in (redis_client, other_client) * 4))
    assert again == [True] * 8
    fresh = unique("wapipe:test:claim:")
    same = await asyncio.gather(*(claim_once(c, fresh, "wamid.C", 60) for c in (redis_client, other_client) * 4))
    assert same == [True] * 8  # one owner racing itself (a runtime retry next to a redelivery) never loses


async def test_a_claim_lasts_its_ttl_and_is_free_again_when_it_expires(redis_client: aioredis.Redis) -> None:
    key = unique("wapipe:test:claim:")
    assert await claim_once(redis_client, key, "first", 600)
    assert 590 <= await redis_client.ttl(key) <= 600
    await redis_client.expire(key, 30)
    assert await claim_once(redis_client, key, "first", 600)
    assert await redis_client.ttl(key) <= 30  # re-claiming never extends the claim
    await redis_client.delete(key)  # what expiry does
    assert await claim_once(redis_client, key, "second", 600)
    assert not await claim_once(redis_client, key, "first", 600)


async def test_a_claim_of_less_than_a_second_is_refused(redis_client: aioredis.Redis) -> None:
    with pytest.raises(ValueError, match="at least one second"):
        await claim_once(redis_client, unique("wapipe:test:claim:"), "x", 0)
