"""A Redis that requires a password and an ACL user, as production's does: every place wapipe opens Redis
(`wapipe.redis.connect`, through the consumers' `run_consumer` and ingress's lifespan) authenticates with the URL's
`user:password@` or with `WAPIPE_REDIS_USERNAME` / `WAPIPE_REDIS_PASSWORD`, and nothing gets in without them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis.exceptions
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from services.ingress.app import create_app
from services.ingress.config import IngressSettings
from wapipe.redis import connect
from wapipe.runtime.service import Resources, Service, run_consumer
from wapipe.settings import CommonSettings
from wapipe_tools.local.servers import free_port, start_redis

USER, PASSWORD, DEFAULT_PASSWORD = "wapipe", "Rd7kQ2mX9pLw4ZtBn3Vy", "default-user-Hq8sW2kP0c"


@pytest.fixture(scope="module")
def secured_redis() -> Iterator[str]:
    """host:port of a redis-server whose default user has another password and whose `wapipe` user may touch
    only wapipe's keys."""
    server = start_redis(config=("--requirepass", DEFAULT_PASSWORD,
                                 "--user", USER, "on", f">{PASSWORD}", "~wapipe:*", "&*", "+@all", "-@admin"))
    try:
        yield server.address
    finally:
        server.stop()


async def _roundtrip(client: object) -> bytes | None:
    import redis.asyncio as aioredis

    assert isinstance(client, aioredis.Redis)
    try:
        await client.set("wapipe:auth-test", "ok", ex=60)
        return await client.get("wapipe:auth-test")
    finally:
        await client.aclose()


async def test_the_url_with_user_and_password_gets_in(secured_redis: str) -> None:
    assert await _roundtrip(connect(f"redis://{USER}:{PASSWORD}@{secured_redis}/0")) == b"ok"


async def test_the_settings_user_and_password_get_in(secured_redis: str) -> None:
    s = CommonSettings(redis_url=f"redis://{secured_redis}/0", redis_username=USER,
                       redis_password=SecretStr(PASSWORD))
    assert await _roundtrip(connect(s.redis())) == b"ok"


@pytest.mark.parametrize("url", ["redis://{addr}/0", "redis://wapipe:wrong-password-000000@{addr}/0"])
async def test_nothing_gets_in_without_the_right_credentials(secured_redis: str, url: str) -> None:
    with pytest.raises(redis.exceptions.AuthenticationError):
        await _roundtrip(connect(url.format(addr=secured_redis)))


async def test_the_acl_user_keeps_to_wapipes_keys(secured_redis: str) -> None:
    client = connect(f"redis://{USER}:{PASSWORD}@{secured_redis}/0")
    try:
        with pytest.raises(redis.exceptions.NoPermissionError):
            await client.set("someone-else:key", "x")
    finally:
        await client.aclose()


async def test_a_consumer_service_opens_redis_with_the_settings(secured_redis: str, kafka_bootstrap: str,
                                                                tmp_path: Path) -> None:
    s = CommonSettings(kafka_bootstrap_servers=kafka_bootstrap, redis_url=f"redis://{secured_redis}/0",
                       redis_username=USER, redis_password=SecretStr(PASSWORD),
                       store_url=f"sqlite:///{tmp_path}/wapipe.db")
    stop = asyncio.Event()
    seen: list[bytes | None] = []

    class Probe:
        """A background task of the service: uses the Redis that run_consumer opened, then asks for the stop."""

        def __init__(self, r: Resources) -> None:
            self.r = r
            self.stopped = asyncio.Event()

        async def run(self) -> None:
            await self.r.redis.set("wapipe:auth-test:consumer", "ok", ex=60)
            seen.append(await self.r.redis.get("wapipe:auth-test:consumer"))
            stop.set()
            await self.stopped.wait()

        async def stop(self) -> None:
            self.stopped.set()

    await asyncio.wait_for(run_consumer(s, lambda r: Service("probe", [], background=[Probe(r)]),
                                        port=free_port(), stop=stop, handle_signals=False), 60)
    assert seen == [b"ok"]


async def test_ingress_opens_redis_with_the_settings(secured_redis: str, kafka_bootstrap: str,
                                                     topic_prefix: str) -> None:
    key = "integration-api-chat-key-Hq8sW2kP0cRd7k"
    s = IngressSettings(kafka_bootstrap_servers=kafka_bootstrap, topic_prefix=topic_prefix,
                        redis_url=f"redis://{secured_redis}/0", redis_username=USER,
                        redis_password=SecretStr(PASSWORD), api_chat_key=SecretStr(key), api_chat_wait_s=0)
    app = create_app(s, registry=CollectorRegistry())
    async with app.router.lifespan_context(app):  # what uvicorn runs: opens the producer and Redis
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ingress") as http:
            r = await http.post("/api/chat", json={"conversation_id": "auth-test", "text": "hola"},
                                headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 202, r.text  # the rate windows (Redis) counted it, then no reply in 0 s
