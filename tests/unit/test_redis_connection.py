"""How every process opens Redis: the URL (redis:// or rediss://, with or without user:password) or the URL plus
the ACL user and password settings; a password given twice is refused, and none is ever shown."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError
from redis.asyncio.connection import Connection, SSLConnection

from wapipe.redis import RedisConnection, connect
from wapipe.settings import CommonSettings

PASSWORD = "Rd7kQ2mX9pLw4ZtB"


def _pool(conn: RedisConnection | str) -> tuple[type, dict[str, object]]:
    client = connect(conn)
    pool = client.connection_pool
    return pool.connection_class, dict(pool.connection_kwargs)


def test_the_url_alone_may_carry_user_password_and_tls() -> None:
    cls, kwargs = _pool(f"rediss://wapipe:{PASSWORD}@redis.redis:6380/2?ssl_ca_certs=/etc/wapipe/ca.crt")
    assert issubclass(cls, SSLConnection)
    assert kwargs["username"] == "wapipe" and kwargs["password"] == PASSWORD and kwargs["db"] == 2
    assert kwargs["ssl_ca_certs"] == "/etc/wapipe/ca.crt"


def test_the_settings_add_user_and_password_to_a_url_without_them() -> None:
    s = CommonSettings(redis_url="redis://redis.redis:6379/0", redis_username="wapipe",
                       redis_password=SecretStr(PASSWORD))
    cls, kwargs = _pool(s.redis())
    assert cls is Connection or not issubclass(cls, SSLConnection)
    assert kwargs["username"] == "wapipe" and kwargs["password"] == PASSWORD
    _, plain = _pool(CommonSettings().redis())
    assert plain.get("password") is None and plain.get("username") is None


@pytest.mark.parametrize(("settings", "named"), [
    ({"redis_url": f"redis://:{PASSWORD}@r:6379/0", "redis_password": SecretStr(PASSWORD)}, "WAPIPE_REDIS_PASSWORD"),
    ({"redis_username": "wapipe"}, "WAPIPE_REDIS_USERNAME needs WAPIPE_REDIS_PASSWORD"),
    ({"redis_url": "http://redis:6379/0"}, "WAPIPE_REDIS_URL"),
])
def test_ambiguous_or_broken_redis_settings_are_refused(settings: dict[str, object], named: str) -> None:
    with pytest.raises(ValidationError) as err:
        CommonSettings(**settings)  # type: ignore[arg-type]
    assert named in str(err.value) and PASSWORD not in str(err.value)


def test_no_password_shows_in_the_connection_or_the_settings() -> None:
    for conn in (RedisConnection(f"rediss://wapipe:{PASSWORD}@redis:6380/0"),
                 CommonSettings(redis_username="wapipe", redis_password=SecretStr(PASSWORD)).redis()):
        assert PASSWORD not in repr(conn) and PASSWORD not in str(conn)
    s = CommonSettings(redis_url=f"redis://wapipe:{PASSWORD}@redis:6379/0")
    assert PASSWORD not in repr(s.redis())
