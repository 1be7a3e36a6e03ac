"""The send claims' contract, run against the Redis adapter and the in-memory fake the unit tests use."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from services.sender.claims import SendClaims
from services.sender.ports import ClaimsPort
from tests.support import unique
from tests.unit.sender.fakes import MemoryClaims


@pytest.fixture(params=["redis", "memory"])
def claims(request: pytest.FixtureRequest) -> ClaimsPort:
    if request.param == "memory":
        return MemoryClaims()
    redis_client: aioredis.Redis = request.getfixturevalue("redis_client")
    return SendClaims(redis_client)


async def test_one_holder_at_a_time_and_the_holder_renews(claims: ClaimsPort) -> None:
    sid = unique("r") + ":0"
    assert await claims.claim(sid, "a") == ("claimed", None)
    assert await claims.claim(sid, "a") == ("claimed", None)
    assert await claims.claim(sid, "b") == ("busy", None)
    assert await claims.sent_wamid(sid) is None


async def test_a_begun_call_is_in_doubt_until_marked_sent(claims: ClaimsPort) -> None:
    sid = unique("r") + ":0"
    await claims.claim(sid, "a")
    await claims.begin(sid)
    assert await claims.claim(sid, "a") == ("doubt", None)
    await claims.mark_sent(sid, "wamid.1")
    for token in ("a", "b"):
        assert await claims.claim(sid, token) == ("sent", "wamid.1")
    assert await claims.sent_wamid(sid) == "wamid.1"


async def test_release_by_the_holder_lets_a_replay_claim_afresh(claims: ClaimsPort) -> None:
    sid = unique("r") + ":0"
    await claims.claim(sid, "a")
    await claims.begin(sid)
    await claims.release(sid, "b")  # not the holder: nothing happens
    assert await claims.claim(sid, "b") == ("busy", None)
    await claims.release(sid, "a")
    assert await claims.claim(sid, "b") == ("claimed", None)  # and no doubt left behind


async def test_a_status_confirms_a_send_whoever_holds_it(claims: ClaimsPort) -> None:
    held, unheld = unique("r") + ":0", unique("r") + ":1"
    await claims.claim(held, "a")
    await claims.begin(held)
    await claims.confirm(held, "wamid.7")
    await claims.confirm(unheld, "wamid.8")
    assert await claims.claim(held, "a") == ("sent", "wamid.7")
    assert await claims.claim(unheld, "c") == ("sent", "wamid.8")


async def test_statuses_of_a_send_this_process_marked_lately_write_nothing_more(
        redis_client: aioredis.Redis) -> None:
    claims = SendClaims(redis_client, remembered=2)
    first, second, third = (unique("r") + ":0" for _ in range(3))
    await claims.mark_sent(first, "wamid.1")
    await redis_client.delete(SendClaims.key(first))  # whatever is in Redis now, the memory answers
    await claims.confirm(first, "wamid.1")  # "delivered" for a send marked here: no write
    assert await claims.sent_wamid(first) is None
    await claims.confirm(first, "wamid.other")  # another wamid for the id is news: written
    assert await claims.sent_wamid(first) == "wamid.other"
    for sid in (second, third):  # only the last two are remembered
        await claims.confirm(sid, "wamid.2")
    await redis_client.delete(SendClaims.key(first))
    await claims.confirm(first, "wamid.other")
    assert await claims.sent_wamid(first) == "wamid.other"
