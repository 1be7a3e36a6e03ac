"""The SQLite store's part of the identity port: the wa_id <-> user_id mapping (`identities`, no expiry).

A mixin of `SQLiteStore`, which provides `_read` (reader pool) and `_write` (the one writer thread, one
transaction per call): "first link wins" is an upsert that only replaces a retired link, read back in the same
transaction, so two processes linking the same id at once agree on the winner.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

from wapipe.store import codec
from wapipe.store.port import IdentityLink, IdKind

T = TypeVar("T")

_COLUMNS = "tenant, kind, value, user, since_us, retired_us"


def _link(row: tuple[Any, ...]) -> IdentityLink:
    tenant, kind, value, user, since_us, retired_us = row
    return IdentityLink(tenant, kind, value, user, codec.from_us(since_us),
                        codec.from_us(retired_us) if retired_us is not None else None)


def _row(link: IdentityLink) -> tuple[Any, ...]:
    retired = codec.to_us(link.retired_at) if link.retired_at is not None else None
    return link.tenant, link.kind, link.value, link.user, codec.to_us(link.since), retired


class SQLiteIdentities:
    async def _read(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    async def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        raise NotImplementedError

    async def link_identity(self, link: IdentityLink) -> IdentityLink:
        key = (link.tenant, link.kind, link.value)

        def tx(c: sqlite3.Connection) -> tuple[Any, ...]:
            c.execute(f"INSERT INTO identities ({_COLUMNS}) VALUES (?,?,?,?,?,NULL) "
                      "ON CONFLICT(tenant, kind, value) DO UPDATE SET user = excluded.user, "
                      "since_us = excluded.since_us, retired_us = NULL "
                      "WHERE identities.retired_us IS NOT NULL AND identities.retired_us < excluded.since_us",
                      _row(link)[:5])
            row: tuple[Any, ...] = c.execute(f"SELECT {_COLUMNS} FROM identities WHERE tenant = ? AND kind = ? "
                                             "AND value = ?", key).fetchone()
            return row

        return _link(await self._write(tx))

    async def set_identity(self, link: IdentityLink) -> None:
        row = _row(link)
        await self._write(lambda c: c.execute(
            f"INSERT INTO identities ({_COLUMNS}) VALUES (?,?,?,?,?,?) ON CONFLICT(tenant, kind, value) DO UPDATE "
            "SET user = excluded.user, since_us = excluded.since_us, retired_us = excluded.retired_us", row))

    async def identity(self, tenant: str, kind: IdKind, value: str) -> IdentityLink | None:
        rows = await self._read(f"SELECT {_COLUMNS} FROM identities WHERE tenant = ? AND kind = ? AND value = ?",
                                (tenant, kind, value))
        return _link(rows[0]) if rows else None

    async def identities_of(self, tenant: str, user: str) -> list[IdentityLink]:
        rows = await self._read(f"SELECT {_COLUMNS} FROM identities WHERE tenant = ? AND user = ? "
                                "ORDER BY since_us, kind, value", (tenant, user))
        return [_link(r) for r in rows]
