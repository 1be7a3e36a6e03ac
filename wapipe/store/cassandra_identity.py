"""The Cassandra store's identity port: the wa_id <-> user_id mapping, in `identities` (by id) and
`identities_by_user` (by the conversation's user), neither with a TTL.

"First link wins" between processes is a lightweight transaction (`INSERT ... IF NOT EXISTS`); every write of
`identities` goes through one, so Paxos and plain writes never mix on a row. `identities_by_user` follows the
winner (plain writes: it is only read to list a customer's ids).
"""

from __future__ import annotations

from typing import Any

from wapipe.store import codec
from wapipe.store.port import IdentityLink, IdKind

QUERIES = {
    "identity": "SELECT uid, since_us, retired_us FROM {ks}.identities WHERE tenant = ? AND kind = ? "
                "AND id_value = ?",
    "identity_insert": "INSERT INTO {ks}.identities (tenant, kind, id_value, uid, since_us, retired_us) "
                       "VALUES (?, ?, ?, ?, ?, ?) IF NOT EXISTS",
    "identity_replace_retired": "UPDATE {ks}.identities SET uid = ?, since_us = ?, retired_us = null "
                                "WHERE tenant = ? AND kind = ? AND id_value = ? IF retired_us = ?",
    "identity_update": "UPDATE {ks}.identities SET uid = ?, since_us = ?, retired_us = ? "
                       "WHERE tenant = ? AND kind = ? AND id_value = ? IF EXISTS",
    "identity_by_user_put": "INSERT INTO {ks}.identities_by_user (tenant, uid, kind, id_value, since_us, retired_us) "
                            "VALUES (?, ?, ?, ?, ?, ?)",
    "identity_by_user_drop": "DELETE FROM {ks}.identities_by_user WHERE tenant = ? AND uid = ? AND kind = ? "
                             "AND id_value = ?",
    "identities_of": "SELECT kind, id_value, since_us, retired_us FROM {ks}.identities_by_user "
                     "WHERE tenant = ? AND uid = ?",
}


def _us(link: IdentityLink) -> tuple[int, int | None]:
    return codec.to_us(link.since), codec.to_us(link.retired_at) if link.retired_at is not None else None


class CassandraIdentities:
    async def _run(self, name: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    async def identity(self, tenant: str, kind: IdKind, value: str) -> IdentityLink | None:
        rows = await self._run("identity", (tenant, kind, value))
        if not rows:
            return None
        uid, since, retired = rows[0]
        return IdentityLink(tenant, kind, value, uid, codec.from_us(since),
                            codec.from_us(retired) if retired is not None else None)

    async def _index(self, link: IdentityLink, previous: IdentityLink | None) -> None:
        if previous is not None and previous.user != link.user:
            await self._run("identity_by_user_drop", (link.tenant, previous.user, link.kind, link.value))
        since, retired = _us(link)
        await self._run("identity_by_user_put", (link.tenant, link.user, link.kind, link.value, since, retired))

    async def link_identity(self, link: IdentityLink) -> IdentityLink:
        since, _ = _us(link)
        key = (link.tenant, link.kind, link.value)
        active = IdentityLink(link.tenant, link.kind, link.value, link.user, link.since)
        while True:
            if (await self._run("identity_insert", (*key, link.user, since, None)))[0][0]:
                await self._index(active, None)
                return active
            held = await self.identity(*key)
            if held is None:  # removed in between: try the insert again
                continue
            if held.retired_at is None or held.holds_at(link.since):
                return held
            retired_us = codec.to_us(held.retired_at)
            if (await self._run("identity_replace_retired", (link.user, since, *key, retired_us)))[0][0]:
                await self._index(active, held)
                return active

    async def set_identity(self, link: IdentityLink) -> None:
        since, retired = _us(link)
        key = (link.tenant, link.kind, link.value)
        while True:
            held = await self.identity(*key)
            if held is not None:
                applied = (await self._run("identity_update", (link.user, since, retired, *key)))[0][0]
            else:
                applied = (await self._run("identity_insert", (*key, link.user, since, retired)))[0][0]
            if applied:
                await self._index(link, held)
                return

    async def identities_of(self, tenant: str, user: str) -> list[IdentityLink]:
        rows = await self._run("identities_of", (tenant, user))
        links = [IdentityLink(tenant, kind, value, user, codec.from_us(since),
                              codec.from_us(retired) if retired is not None else None)
                 for kind, value, since, retired in rows]
        return sorted(links, key=lambda x: (x.since, x.kind, x.value))
