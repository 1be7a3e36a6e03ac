"""The wa_id <-> user_id mapping: Redis for the hot path, the conversation store (`IdentityStore`) as the durable
copy. Ingress reads it for every webhook (`services/ingress/identity.py` decides what to link).

Key (under `wapipe:`): `identity:{tenant}:{kind}:{value}` -> JSON `{"user", "since", "retired"}` (epoch
microseconds; `retired` null while the id is the customer's), 7 days, refreshed from the store on a miss. Writes
go to the store first (it decides which link wins), then the winner is cached. A Redis failure degrades to store
reads; a store failure is raised (ingress answers 503 and Meta retries).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from wapipe.redis import KEY_PREFIX
from wapipe.store import codec
from wapipe.store.port import IdentityLink, IdentityStore, IdKind

log = logging.getLogger(__name__)
CACHE_TTL_S = 7 * 24 * 3600
Id = tuple[IdKind, str]


def cache_key(tenant: str, kind: IdKind, value: str) -> str:
    return f"{KEY_PREFIX}identity:{tenant}:{kind}:{value}"


def _encode(link: IdentityLink) -> str:
    retired = codec.to_us(link.retired_at) if link.retired_at is not None else None
    return json.dumps({"user": link.user, "since": codec.to_us(link.since), "retired": retired})


def _decode(tenant: str, ident: Id, raw: bytes | str) -> IdentityLink | None:
    try:
        doc = json.loads(raw)
        retired = doc.get("retired")
        return IdentityLink(tenant, ident[0], ident[1], str(doc["user"]), codec.from_us(int(doc["since"])),
                            codec.from_us(int(retired)) if retired is not None else None)
    except (ValueError, KeyError, TypeError):
        return None  # written by something we do not understand: read the store instead


class IdentityMap:
    def __init__(self, redis: aioredis.Redis, store: IdentityStore, *, ttl_s: int = CACHE_TTL_S) -> None:
        self.redis, self.store, self.ttl_s = redis, store, ttl_s

    async def get_many(self, tenant: str, ids: Iterable[Id]) -> dict[Id, IdentityLink | None]:
        """The link of each id (None: never seen), one Redis round trip plus store reads for the misses."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        found: dict[Id, IdentityLink | None] = {}
        try:
            raws = await self.redis.mget([cache_key(tenant, *i) for i in wanted])
        except RedisError as exc:
            log.warning("identity cache read failed, reading the store: %s", exc)
            raws = [None] * len(wanted)
        for ident, raw in zip(wanted, raws, strict=True):
            if raw is not None and (link := _decode(tenant, ident, raw)) is not None:
                found[ident] = link
        misses = [i for i in wanted if i not in found]
        links = await asyncio.gather(*(self.store.identity(tenant, *i) for i in misses))
        for ident, stored in zip(misses, links, strict=True):
            found[ident] = stored
        await self._cache([link for link in links if link is not None])
        return found

    async def link(self, link: IdentityLink) -> IdentityLink:
        """Link the id unless it already holds (the store decides between racing writers); the winner."""
        held = await self.store.link_identity(link)
        await self._cache([held])
        return held

    async def set(self, link: IdentityLink) -> None:
        await self.store.set_identity(link)
        await self._cache([link])

    async def of_user(self, tenant: str, user: str) -> list[IdentityLink]:
        return await self.store.identities_of(tenant, user)

    async def _cache(self, links: list[IdentityLink]) -> None:
        if not links:
            return
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for link in links:
                    pipe.set(cache_key(link.tenant, link.kind, link.value), _encode(link), ex=self.ttl_s)
                await pipe.execute()
        except RedisError as exc:  # the store has it; the next read fills the cache again
            log.warning("identity cache write failed: %s", exc)
