"""Auto-pipelined Redis (`wapipe.redis_mux`) against a real redis-server: every command answers what redis-py's
pooled client answers, replies never cross between callers (errors, cancellations, hundreds in flight), and a
lost or killed connection fails only what was in flight on it and is replaced."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import redis.asyncio as aioredis
import redis.exceptions

from wapipe.redis import RedisConnection, connect
from wapipe.redis_mux import MuxRedis
from wapipe_tools.local.servers import ServerProcess, start_redis

SCRIPT = "redis.call('SET', KEYS[1], ARGV[1]) return {redis.call('GET', KEYS[1]), 7}"


@pytest.fixture
async def clients(redis_url: str) -> AsyncIterator[tuple[aioredis.Redis, aioredis.Redis]]:
    muxed, pooled = connect(redis_url), connect(RedisConnection(redis_url, autopipeline=False))
    assert isinstance(muxed, MuxRedis) and not isinstance(pooled, MuxRedis)
    await pooled.flushdb()
    try:
        yield muxed, pooled
    finally:
        await muxed.aclose()
        await pooled.aclose()


async def _every_command(r: aioredis.Redis, k: str) -> list[Any]:
    """One of each command wapipe sends outside pipelines, on keys under `k`."""
    return [
        await r.set(f"{k}:s", "v", ex=60), await r.set(f"{k}:s", "w", nx=True), await r.get(f"{k}:s"),
        await r.get(f"{k}:none"), await r.mget([f"{k}:s", f"{k}:none"]), await r.exists(f"{k}:s", f"{k}:none"),
        await r.expire(f"{k}:s", 120), await r.ttl(f"{k}:s"), await r.type(f"{k}:s"), await r.incr(f"{k}:n"),
        await r.hset(f"{k}:h", mapping={"a": "1", "b": "2"}), await r.hget(f"{k}:h", "a"),
        await r.hmget(f"{k}:h", ["a", "zz"]), await r.hgetall(f"{k}:h"), await r.hincrby(f"{k}:h", "a", 5),
        await r.zadd(f"{k}:z", {"x": 1.5, "y": 2.0}), await r.zscore(f"{k}:z", "x"),
        await r.zrange(f"{k}:z", 0, -1, withscores=True), await r.zrevrange(f"{k}:z", 0, 0),
        await r.zrem(f"{k}:z", "y"), await r.zremrangebyscore(f"{k}:z", 0, 1),
        await r.sadd(f"{k}:set", "p", "q"), await r.smembers(f"{k}:set"), await r.srem(f"{k}:set", "p"),
        await r.rpush(f"{k}:l", "1", "2", "3"), await r.lpush(f"{k}:l", "0"), await r.lrange(f"{k}:l", 0, -1),
        await r.ltrim(f"{k}:l", 0, 1), await r.lrange(f"{k}:l", 0, -1),
        await r.eval(SCRIPT, 1, f"{k}:e", "lua"), await r.publish(f"{k}:chan", "hi"),
        await r.delete(f"{k}:s", f"{k}:none"), await r.unlink(f"{k}:h"), await r.ping(),
    ]


async def test_every_command_answers_what_the_pooled_client_answers(
        clients: tuple[aioredis.Redis, aioredis.Redis]) -> None:
    muxed, pooled = clients
    assert await _every_command(muxed, "wapipe:t:mux") == await _every_command(pooled, "wapipe:t:pool")


async def test_hundreds_in_flight_each_get_their_own_reply(clients: tuple[aioredis.Redis, aioredis.Redis]) -> None:
    muxed, pooled = clients

    async def one(i: int) -> tuple[int, bytes | None, int]:
        await muxed.set(f"wapipe:t:k{i}", f"v{i}")
        return i, await muxed.get(f"wapipe:t:k{i}"), await muxed.incr(f"wapipe:t:n{i % 7}")

    out = await asyncio.gather(*(one(i) for i in range(600)))
    assert all(value == f"v{i}".encode() for i, value, _ in out)
    assert sorted(n for *_, n in out)[-1] >= 600 // 7
    assert [int(v or 0) for v in await pooled.mget([f"wapipe:t:n{j}" for j in range(7)])] == \
        [len(range(j, 600, 7)) for j in range(7)]


async def test_an_error_reply_reaches_its_caller_alone(clients: tuple[aioredis.Redis, aioredis.Redis]) -> None:
    muxed, _ = clients
    await muxed.set("wapipe:t:str", "x")
    got = await asyncio.gather(muxed.get("wapipe:t:str"), muxed.hget("wapipe:t:str", "f"), muxed.incr("wapipe:t:c"),
                               muxed.eval("return redis.call('NOPE')", 0), muxed.get("wapipe:t:str"),
                               return_exceptions=True)
    assert got[0] == b"x" and got[2] == 1 and got[4] == b"x"
    assert isinstance(got[1], redis.exceptions.ResponseError) and "WRONGTYPE" in str(got[1])
    assert isinstance(got[3], redis.exceptions.ResponseError)


async def test_a_command_that_cannot_be_sent_leaves_the_others_in_step(
        clients: tuple[aioredis.Redis, aioredis.Redis]) -> None:
    muxed, _ = clients
    await muxed.set("wapipe:t:a", "1")
    with pytest.raises(redis.exceptions.DataError):
        await muxed.set("wapipe:t:b", None)  # type: ignore[arg-type]  # redis-py refuses None before any byte
    assert await asyncio.gather(muxed.get("wapipe:t:a"), muxed.exists("wapipe:t:b")) == [b"1", 0]


async def test_cancelled_callers_leave_the_others_replies_in_step(
        clients: tuple[aioredis.Redis, aioredis.Redis]) -> None:
    muxed, _ = clients
    await asyncio.gather(*(muxed.set(f"wapipe:t:c{i}", str(i)) for i in range(50)))
    tasks = [asyncio.ensure_future(muxed.get(f"wapipe:t:c{i}")) for i in range(50)]

    async def give_up_on_half() -> None:  # runs after every caller above queued its command (tasks start in order)
        assert isinstance(muxed, MuxRedis) and muxed._lane is not None and muxed._lane.link is not None
        assert len(muxed._lane.link.inflight) == 50
        for t in tasks[::2]:
            t.cancel()

    await asyncio.ensure_future(give_up_on_half())
    done = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(d, asyncio.CancelledError) for d in done[::2])
    assert done[1::2] == [str(i).encode() for i in range(1, 50, 2)]
    assert await muxed.get("wapipe:t:c7") == b"7"


async def test_a_connection_idle_past_the_health_interval_is_checked_and_replaced_when_gone(
        clients: tuple[aioredis.Redis, aioredis.Redis]) -> None:
    muxed, pooled = clients
    assert isinstance(muxed, MuxRedis)
    await muxed.set("wapipe:t:idle", "1")
    lane = muxed._lane
    assert lane is not None and lane.link is not None
    first = lane.link
    await pooled.execute_command("CLIENT", "KILL", "SKIPME", "yes", "TYPE", "normal")  # a proxy dropped it
    first.used_at -= 3600  # idle for an hour, longer than the health interval
    assert await muxed.get("wapipe:t:idle") == b"1"
    assert lane.link is not first


async def test_closing_the_client_fails_what_is_still_in_flight(redis_url: str) -> None:
    muxed = connect(redis_url)
    await muxed.set("wapipe:t:slow", "1")
    # The close starts after the GET queued its command (tasks start in order), before its reply can be read.
    got, closed = await asyncio.wait_for(asyncio.gather(muxed.get("wapipe:t:slow"), muxed.aclose(),
                                                        return_exceptions=True), 30)
    assert isinstance(got, redis.exceptions.ConnectionError) and closed is None


@pytest.fixture
def own_redis() -> Iterator[list[ServerProcess]]:
    holder = [start_redis()]
    try:
        yield holder
    finally:
        holder[0].stop()


async def test_a_killed_redis_fails_what_was_in_flight_then_the_client_reconnects(
        own_redis: list[ServerProcess]) -> None:
    port = own_redis[0].port
    muxed = connect(f"redis://127.0.0.1:{port}/0")
    try:
        await muxed.set("wapipe:t:a", "1")
        own_redis[0].stop()
        with pytest.raises(redis.exceptions.ConnectionError):
            await asyncio.gather(*(muxed.get("wapipe:t:a") for _ in range(20)))
        with pytest.raises(redis.exceptions.ConnectionError):
            await muxed.get("wapipe:t:a")  # nobody to connect to
        own_redis[0] = start_redis(port=port)
        assert await muxed.set("wapipe:t:a", "2") is True
        assert await asyncio.gather(*(muxed.get("wapipe:t:a") for _ in range(20))) == [b"2"] * 20
    finally:
        await muxed.aclose()


async def _pipelined(r: aioredis.Redis, k: str, raise_on_error: bool = True) -> list[Any]:
    """The shape of the console's inbox update: a pipeline without MULTI of hash, sorted-set, string, list and
    publish commands."""
    pipe = r.pipeline(transaction=False)
    pipe.hset(f"{k}:h", mapping={"ref": "r1", "last_text": "hola"})
    pipe.expire(f"{k}:h", 60)
    pipe.zadd(f"{k}:z", {"c1": 5.0}, gt=True)
    pipe.zadd(f"{k}:z", {"c1": 3.0}, gt=True)
    pipe.set(f"{k}:seen", "1", ex=60, nx=True)
    pipe.set(f"{k}:seen", "1", ex=60, nx=True)
    pipe.hincrby(f"{k}:h", "unread", 1)
    pipe.lpush(f"{k}:l", "a", "b")
    pipe.ltrim(f"{k}:l", 0, 0)
    pipe.lrange(f"{k}:l", 0, -1)
    pipe.zrange(f"{k}:z", 0, -1, withscores=True)
    pipe.hgetall(f"{k}:h")
    pipe.publish(f"{k}:chan", "x")
    return await pipe.execute(raise_on_error=raise_on_error)


async def test_a_pipeline_without_multi_answers_what_the_pooled_one_answers(
        clients: tuple[aioredis.Redis, aioredis.Redis]) -> None:
    muxed, pooled = clients
    assert await _pipelined(muxed, "wapipe:t:mux") == await _pipelined(pooled, "wapipe:t:pool")
    pool = muxed.connection_pool
    assert muxed._lane is not None and muxed._lane.link is not None  # the shared connection carried it
    assert not pool._in_use_connections and not pool._available_connections  # type: ignore[attr-defined]


async def test_an_error_reply_in_a_pipeline_keeps_its_place(clients: tuple[aioredis.Redis, aioredis.Redis]) -> None:
    muxed, _ = clients
    await muxed.set("wapipe:t:str", "x")

    def pipe() -> Any:
        p = muxed.pipeline(transaction=False)
        p.get("wapipe:t:str")
        p.hget("wapipe:t:str", "f")  # WRONGTYPE
        p.incr("wapipe:t:c")
        return p

    got = await pipe().execute(raise_on_error=False)
    assert got[0] == b"x" and got[2] == 1
    assert isinstance(got[1], redis.exceptions.ResponseError) and "WRONGTYPE" in str(got[1])
    with pytest.raises(redis.exceptions.ResponseError, match="Command # 2"):
        await pipe().execute()
    assert await muxed.get("wapipe:t:c") == b"2"  # the command after the error ran both times


async def test_a_pipeline_with_other_commands_and_a_transaction_use_the_pool(
        clients: tuple[aioredis.Redis, aioredis.Redis]) -> None:
    muxed, _ = clients
    p = muxed.pipeline(transaction=False)
    p.set("wapipe:t:a", "1")
    p.dbsize()  # not muxed: the whole pipeline goes to the pool
    assert (await p.execute())[0] is True
    async with muxed.pipeline(transaction=True) as tx:
        tx.incr("wapipe:t:tx")
        tx.incr("wapipe:t:tx")
        assert await tx.execute() == [1, 2]
    assert muxed.connection_pool._available_connections  # type: ignore[attr-defined]
