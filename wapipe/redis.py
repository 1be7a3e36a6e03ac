"""The one way services open Redis: an asyncio client with explicit timeouts, authenticated and over TLS when
the settings say so."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pydantic import SecretStr

if TYPE_CHECKING:  # the settings import this module; redis itself is imported by whoever connects
    import redis.asyncio as aioredis

KEY_PREFIX = "wapipe:"
DEFAULT_MAX_CONNECTIONS = 256


@dataclass(frozen=True)
class RedisConnection:
    """Where Redis is and who we are to it. `url` is `redis://`, or `rediss://` for TLS (`?ssl_ca_certs=/path`
    names the CA that signed the server's certificate), and may carry `user:password@`; or the password (and ACL
    user) come as settings of their own, `WAPIPE_REDIS_PASSWORD` being a secret that can be read from a file.
    The repr never shows a password."""

    url: str
    username: str | None = None
    password: SecretStr | None = None
    autopipeline: bool = True  # `wapipe.redis_mux`

    def check(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("redis", "rediss", "unix"):
            raise ValueError(f"WAPIPE_REDIS_URL: scheme {parts.scheme!r} is not redis://, rediss:// or unix://")
        if self.password is not None and parts.password is not None:
            raise ValueError("WAPIPE_REDIS_PASSWORD is set and WAPIPE_REDIS_URL carries a password too; keep one")
        if self.username is not None and self.password is None:
            raise ValueError("WAPIPE_REDIS_USERNAME needs WAPIPE_REDIS_PASSWORD")

    def __repr__(self) -> str:
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        shown = parts._replace(netloc=f"{host}:{parts.port}" if parts.port else host).geturl()
        return f"RedisConnection({shown!r}, username={self.username!r}, password={'***' if self.password else None})"

    __str__ = __repr__


def connect(where: str | RedisConnection, max_connections: int = DEFAULT_MAX_CONNECTIONS) -> aioredis.Redis:
    """A client whose pool makes callers wait for a free connection instead of failing: redis-py's default
    pool raises MaxConnectionsError past 100 connections, which a worker with 256 handlers in flight hits under
    load (each failure retried, then sent to the DLQ, i.e. a lost reply). The client owns its pool: `aclose()`
    closes every connection of it. Single-reply commands share one more connection of their own
    (`wapipe.redis_mux`) unless the connection says `autopipeline=False`."""
    import redis.asyncio as aioredis

    from wapipe.redis_mux import MuxRedis

    conn = RedisConnection(where) if isinstance(where, str) else where
    auth: dict[str, str] = {}
    if conn.password is not None:
        auth["password"] = conn.password.get_secret_value()
        if conn.username is not None:
            auth["username"] = conn.username
    pool = aioredis.BlockingConnectionPool.from_url(conn.url, max_connections=max_connections, timeout=10,
                                                    socket_timeout=5, socket_connect_timeout=3,
                                                    health_check_interval=30, **auth)
    return (MuxRedis if conn.autopipeline else aioredis.Redis).from_pool(pool)
