"""The SQLite store's console accounts and operators' audit (a mixin of `SQLiteStore`); neither expires."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

from wapipe.store import codec
from wapipe.store.accounts import OperatorAccount, OperatorEvent

T = TypeVar("T")
_ACCOUNT_COLS = "name, role, tenants, password_hash, created_us, password_set_us, disabled_us"


def account_row(a: OperatorAccount) -> tuple[Any, ...]:
    return (a.name, a.role, json.dumps(sorted(a.tenants)), a.password_hash, codec.to_us(a.created_at),
            codec.to_us(a.password_set_at), codec.to_us(a.disabled_at) if a.disabled_at else None)


def account_of(row: tuple[Any, ...]) -> OperatorAccount:
    name, role, tenants, password_hash, created_us, set_us, disabled_us = row
    return OperatorAccount(name=name, role=role, tenants=frozenset(json.loads(tenants)), password_hash=password_hash,
                           created_at=codec.from_us(created_us), password_set_at=codec.from_us(set_us),
                           disabled_at=codec.from_us(disabled_us) if disabled_us is not None else None)


class SQLiteAccounts:
    """Needs `_write(fn)` and `_read(sql, params)` from the store."""

    async def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        raise NotImplementedError

    async def _read(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    async def put_operator_account(self, account: OperatorAccount) -> None:
        row = account_row(account)
        await self._write(lambda c: c.execute(
            f"INSERT OR REPLACE INTO operator_accounts ({_ACCOUNT_COLS}) VALUES (?,?,?,?,?,?,?)", row))

    async def operator_account(self, name: str) -> OperatorAccount | None:
        rows = await self._read(f"SELECT {_ACCOUNT_COLS} FROM operator_accounts WHERE name = ?", (name,))
        return account_of(rows[0]) if rows else None

    async def operator_accounts(self) -> list[OperatorAccount]:
        rows = await self._read(f"SELECT {_ACCOUNT_COLS} FROM operator_accounts ORDER BY created_us, name", ())
        return [account_of(r) for r in rows]

    async def append_operator_event(self, event: OperatorEvent) -> None:
        row = (codec.operator_event_id(event), codec.to_us(event.ts), event.name, event.action, event.actor,
               event.detail)
        await self._write(lambda c: c.execute(
            "INSERT INTO operator_events (event_id, ts_us, name, action, actor, detail) VALUES (?,?,?,?,?,?) "
            "ON CONFLICT(event_id) DO NOTHING", row))

    async def operator_events(self, limit: int = 100) -> list[OperatorEvent]:
        rows = await self._read("SELECT ts_us, name, action, actor, detail FROM operator_events "
                                "ORDER BY ts_us DESC, rowid DESC LIMIT ?", (limit,))
        return [OperatorEvent(codec.from_us(ts), name, action, actor, detail)
                for ts, name, action, actor, detail in reversed(rows)]
