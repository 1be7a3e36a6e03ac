"""Sign-in limits in Redis, shared by every console replica: wrong passwords are counted per account and per
client address in a fixed window; reaching the limit locks that account (or address) for the lockout time, during
which even the right password is refused. A good sign-in clears the account's count, never a lock: a lock only
expires. Keys under `wapipe:console:login:`.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

from wapipe.redis import KEY_PREFIX

_P = f"{KEY_PREFIX}console:login:"


@dataclass(frozen=True)
class Limits:
    max_failures: int
    window_s: int
    lockout_s: int


class LoginLimiter:
    def __init__(self, redis: aioredis.Redis, limits: Limits) -> None:
        self.redis = redis
        self.limits = limits

    @staticmethod
    def _keys(kind: str, who: str) -> tuple[str, str]:
        return f"{_P}fail:{kind}:{who}", f"{_P}locked:{kind}:{who}"

    async def locked(self, name: str, address: str) -> bool:
        """Whether the account or the address is locked now."""
        return bool(await self.redis.exists(self._keys("name", name)[1], self._keys("addr", address)[1]))

    async def failed(self, name: str, address: str) -> bool:
        """Count a wrong password; True when this one locked the account (or the address)."""
        locked_now = False
        for kind, who in (("name", name), ("addr", address)):
            count_key, lock_key = self._keys(kind, who)
            count = int(await self.redis.incr(count_key))
            if count == 1:  # the window starts with the first failure (EXPIRE NX needs Redis 7)
                await self.redis.expire(count_key, self.limits.window_s)
            if count >= self.limits.max_failures:
                if await self.redis.set(lock_key, "1", ex=self.limits.lockout_s, nx=True):
                    locked_now = True
                await self.redis.delete(count_key)
        return locked_now

    async def succeeded(self, name: str) -> None:
        await self.redis.delete(self._keys("name", name)[0])
