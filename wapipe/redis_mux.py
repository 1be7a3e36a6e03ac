"""Auto-pipelining: every single-reply command of a process shares one Redis connection.

redis-py gives each command a connection from its pool and back, behind a lock, a retry wrapper and two timeout
scopes: about 200 us of CPU per command on a small core, where the bytes on the wire cost 40. Here a command is
packed, queued behind the ones in flight and written with every other command of the same event-loop turn in one
write; one reader task hands the replies back in order (Redis answers a connection's commands in order). Each
command still returns what redis-py returns: the client's own response callbacks parse the raw reply.

Only the commands in `MUXED` take this path: none of them blocks the connection (no BLPOP, no SUBSCRIBE) or
changes its state (no SELECT, no MULTI). A pipeline without MULTI whose commands are all of them goes the same
way, its commands back to back (`MuxPipeline`); transactions, pub/sub and everything else use the pool as before.
A lost connection fails every command in flight with redis' `ConnectionError` (a timeout with its
`TimeoutError`), exactly what a pooled connection would raise, and the next command connects again; like the
pool's health check, a connection idle longer than `health_check_interval` is checked with a PING first.
"""

from __future__ import annotations

import asyncio
import collections
import inspect
import time
from collections.abc import Mapping, Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.client import EMPTY_RESPONSE, NEVER_DECODE, Pipeline
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError, ResponseError, TimeoutError

# Commands that answer once, at once, and leave the connection as they found it.
MUXED = frozenset({
    "GET", "SET", "GETDEL", "MGET", "EXISTS", "DEL", "UNLINK", "EXPIRE", "PEXPIRE", "TTL", "PTTL", "TYPE", "INCR",
    "INCRBY", "EVAL", "EVALSHA", "HGET", "HSET", "HMGET", "HGETALL", "HDEL", "HINCRBY", "ZADD", "ZREM", "ZSCORE",
    "ZRANGE", "ZREVRANGE", "ZRANGEBYSCORE", "ZREMRANGEBYSCORE", "ZCARD", "SADD", "SREM", "SMEMBERS", "SISMEMBER",
    "LPUSH", "RPUSH", "LRANGE", "LTRIM", "LLEN", "PUBLISH", "PING",
})


class _Link:
    """One connection and its commands in flight, oldest first. A link that fails fails only its own commands and
    is never used again."""

    def __init__(self, conn: AbstractConnection, timeout: float | None) -> None:
        self.conn, self.timeout = conn, timeout
        self.inflight: collections.deque[tuple[asyncio.Future[Any], bool]] = collections.deque()
        self.unwritten: list[bytes] = []
        self.flushing = False
        self.reader: asyncio.Task[None] | None = None
        self.alive = True
        self.used_at = time.monotonic()
        self.closing: asyncio.Task[None] | None = None

    def send(self, args: tuple[Any, ...], decode: bool) -> asyncio.Future[Any]:
        """Queue one command (no await: the order of `inflight` is the order of the bytes)."""
        packed = self.conn.pack_command(*args)  # first: a command that cannot be packed (DataError) is never queued
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Any] = loop.create_future()
        self.inflight.append((fut, decode))
        self.unwritten.extend(packed)
        if not self.flushing:  # one write for every command of this event-loop turn
            self.flushing = True
            loop.call_soon(self._flush)
        if self.reader is None:
            self.reader = loop.create_task(self._read())
        self.used_at = time.monotonic()
        return fut

    def _flush(self) -> None:
        self.flushing = False
        data, self.unwritten = self.unwritten, []
        writer = getattr(self.conn, "_writer", None)
        if not self.alive or not data:
            return
        if writer is None:
            self.fail(ConnectionError("Redis connection closed"))
            return
        try:
            writer.writelines(data)  # the transport buffers it; the replies pace the callers
        except (OSError, RuntimeError) as e:
            self.fail(ConnectionError(f"Error writing to Redis: {e}"))

    async def _read(self) -> None:
        try:
            while self.inflight:
                fut, decode = self.inflight[0]
                try:
                    reply = await self.conn.read_response(disable_decoding=not decode, timeout=self.timeout)
                except ResponseError as e:
                    reply = e
                except asyncio.CancelledError:  # `fail` or `close`
                    raise
                except BaseException as e:  # gone or out of step: nothing in flight on it can land
                    self.fail(e if isinstance(e, ConnectionError | TimeoutError)
                              else ConnectionError(f"Redis connection lost: {e!r}"))
                    return
                self.inflight.popleft()
                if fut.done():  # its caller was cancelled; the reply still had to be read
                    continue
                if isinstance(reply, ResponseError):
                    fut.set_exception(reply)
                else:
                    fut.set_result(reply)
        finally:
            if self.reader is asyncio.current_task():
                self.reader = None

    def _end(self, error: BaseException) -> None:
        """Never used again; every command still in flight fails with `error`."""
        self.alive, self.unwritten = False, []
        while self.inflight:
            fut, _ = self.inflight.popleft()
            if not fut.done():
                fut.set_exception(error)

    def fail(self, error: BaseException) -> None:
        self._end(error)
        if self.reader is not None and self.reader is not asyncio.current_task():
            self.reader.cancel()
        self.closing = asyncio.get_running_loop().create_task(self.conn.disconnect(nowait=True))

    async def close(self) -> None:
        """Fails what is still in flight (its callers would wait for ever otherwise), then disconnects."""
        self._end(ConnectionError("Redis client closed"))
        if self.reader is not None:
            self.reader.cancel()
        await self.conn.disconnect()


class _Lane:
    """The process's current link; a new one is opened (once, whoever asks first) when it is lost."""

    def __init__(self, pool: aioredis.ConnectionPool) -> None:
        self.pool = pool
        self.link: _Link | None = None
        self.opening: asyncio.Task[_Link] | None = None
        kwargs = pool.connection_kwargs
        self.timeout: float | None = kwargs.get("socket_timeout")
        self.health_s: float = kwargs.get("health_check_interval") or 0.0

    async def call(self, args: tuple[Any, ...], decode: bool) -> Any:
        return await (await self.ready()).send(args, decode)

    async def ready(self) -> _Link:
        """The link to send on: the current one, or a new one when it is gone or idle past the health interval."""
        link = self.link
        if link is None or not link.alive or not link.conn.is_connected or self._stale(link):
            link = await self._open()
        return link

    def _stale(self, link: _Link) -> bool:
        return bool(self.health_s) and not link.inflight and time.monotonic() - link.used_at > self.health_s

    async def _open(self) -> _Link:
        if self.opening is None:
            self.opening = asyncio.get_running_loop().create_task(self._connect())
        opening = self.opening
        try:
            return await asyncio.shield(opening)
        finally:
            if opening.done() and self.opening is opening:
                self.opening = None

    async def _connect(self) -> _Link:
        old, self.link = self.link, None
        if old is not None and old.alive and old.conn.is_connected and not old.inflight:
            # Idle longer than the health interval: a PING on it tells whether it is still there.
            try:
                if await old.send(("PING",), True) in (b"PONG", "PONG", True):
                    self.link = old
                    return old
            except (ConnectionError, TimeoutError, OSError):
                pass
        if old is not None and old.alive:
            await old.close()
        conn = self.pool.make_connection()
        await conn.connect()
        self.link = _Link(conn, self.timeout)
        return self.link

    async def close(self) -> None:
        if self.link is not None:
            await self.link.close()
            self.link = None


class MuxRedis(aioredis.Redis):
    """A redis-py client whose single-reply commands share one connection (see the module docstring)."""

    _lane: _Lane | None = None

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        name = args[0]
        if name not in MUXED or self.connection is not None:
            return await super().execute_command(*args, **options)
        try:
            reply = await self._lane_().call(args, NEVER_DECODE not in options)
        except ResponseError:
            if EMPTY_RESPONSE in options:
                return options[EMPTY_RESPONSE]
            raise
        return await self._parse(name, reply, options)

    def pipeline(self, transaction: bool = True, shard_hint: str | None = None) -> Pipeline:
        """A pipeline without MULTI goes over the shared connection (`MuxPipeline`); a transaction uses the pool."""
        if transaction or self.connection is not None:
            return super().pipeline(transaction, shard_hint)
        return MuxPipeline(self, shard_hint)

    def _lane_(self) -> _Lane:
        if self._lane is None:
            self._lane = _Lane(self.connection_pool)
        return self._lane

    async def _parse(self, name: str, reply: Any, options: dict[str, Any]) -> Any:
        """The raw reply as redis-py's own response callback for `name` returns it."""
        for option in (NEVER_DECODE, EMPTY_RESPONSE, "keys"):
            options.pop(option, None)
        callback = self.response_callbacks.get(name)
        if callback is None:
            return reply
        parsed = callback(reply, **options)
        return await parsed if inspect.isawaitable(parsed) else parsed

    async def execute_many(self, stack: Sequence[tuple[tuple[Any, ...], Mapping[str, Any]]]) -> list[Any]:
        """Commands of `MUXED` back to back on the shared connection, in one write: their replies in order, an
        error reply in its place (as a pipeline without MULTI answers); a lost connection raises."""
        link = await self._lane_().ready()
        sent: list[asyncio.Future[Any]] = []
        try:
            for args, options in stack:
                sent.append(link.send(args, NEVER_DECODE not in options))
        finally:  # what went out is read back even when a later command could not be packed
            replies = await asyncio.gather(*sent, return_exceptions=True)
        out: list[Any] = []
        for (args, options), reply in zip(stack, replies, strict=True):
            if isinstance(reply, ResponseError):
                out.append(options[EMPTY_RESPONSE] if EMPTY_RESPONSE in options else reply)
            elif isinstance(reply, BaseException):
                raise reply
            else:
                out.append(await self._parse(args[0], reply, dict(options)))
        return out

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        if self._lane is not None:
            await self._lane.close()
            self._lane = None
        await super().aclose(close_connection_pool)


class MuxPipeline(Pipeline):
    """A pipeline without MULTI on the shared connection: its commands are written back to back in one write, so
    Redis runs them in order as it would on a pooled connection, and nothing else of the process comes between
    them. A pipeline holding a command outside `MUXED` (or scripts, or a WATCH) runs on the pool as before."""

    def __init__(self, client: MuxRedis, shard_hint: str | None) -> None:
        super().__init__(client.connection_pool, client.response_callbacks, False, shard_hint)
        self._client = client

    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        stack = self.command_stack
        if (not stack or self.watching or self.explicit_transaction or self.scripts
                or any(args[0] not in MUXED for args, _ in stack)):
            return await super().execute(raise_on_error)
        try:
            response = await self._client.execute_many(stack)
        finally:
            await self.reset()
        if raise_on_error:
            self.raise_first_error(stack, response)
        return response
