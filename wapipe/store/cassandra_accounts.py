"""The Cassandra store's console accounts and operators' audit (a mixin of `CassandraStore`) and their statements.

Accounts live in one small partition (`realm`, like the operator tokens: a few hundred rows at most), read by name
on every console request. The audit is partitioned by month so no partition grows without bound; the newest
events are read month by month backwards. Neither has a TTL; optional columns are left unset, never bound to null
(a null would write a tombstone into a table that never expires).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cassandra.query import UNSET_VALUE

from wapipe.store import codec
from wapipe.store.accounts import OperatorAccount, OperatorEvent

ACCOUNT_REALM = "operators"
AUDIT_MONTHS_READ = 12
_ACCOUNT_COLS = "name, role, tenants, password_hash, created_us, password_set_us, disabled_us"

QUERIES = {
    "insert_account": "INSERT INTO {ks}.operator_accounts (realm, " + _ACCOUNT_COLS + ") "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    "account": "SELECT " + _ACCOUNT_COLS + " FROM {ks}.operator_accounts WHERE realm = ? AND name = ?",
    "accounts": "SELECT " + _ACCOUNT_COLS + " FROM {ks}.operator_accounts WHERE realm = ?",
    "insert_operator_event": "INSERT INTO {ks}.operator_events (month, ts_us, event_id, name, action, actor, "
                             "detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
    "operator_events": "SELECT ts_us, name, action, actor, detail FROM {ks}.operator_events WHERE month = ? "
                       "LIMIT ?",
}


def _month(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m")


def _months_back(now: datetime, n: int) -> list[str]:
    year, month = now.year, now.month
    out = []
    for _ in range(n):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out


def _account(row: tuple[Any, ...]) -> OperatorAccount:
    name, role, tenants, password_hash, created_us, set_us, disabled_us = row
    return OperatorAccount(name=name, role=role, tenants=frozenset(tenants or ()), password_hash=password_hash,
                           created_at=codec.from_us(created_us), password_set_at=codec.from_us(set_us),
                           disabled_at=codec.from_us(disabled_us) if disabled_us is not None else None)


class CassandraAccounts:
    """Needs `_run(name, params)` from the store."""

    async def _run(self, name: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    async def put_operator_account(self, account: OperatorAccount) -> None:
        # A re-enabled account would need the column deleted; accounts are disabled for good (add a new one).
        disabled = codec.to_us(account.disabled_at) if account.disabled_at else UNSET_VALUE
        await self._run("insert_account", (ACCOUNT_REALM, account.name, account.role, set(account.tenants),
                                           account.password_hash, codec.to_us(account.created_at),
                                           codec.to_us(account.password_set_at), disabled))

    async def operator_account(self, name: str) -> OperatorAccount | None:
        rows = await self._run("account", (ACCOUNT_REALM, name))
        return _account(rows[0]) if rows else None

    async def operator_accounts(self) -> list[OperatorAccount]:
        rows = await self._run("accounts", (ACCOUNT_REALM,))
        return sorted((_account(r) for r in rows), key=lambda a: (a.created_at, a.name))

    async def append_operator_event(self, event: OperatorEvent) -> None:
        detail = event.detail if event.detail is not None else UNSET_VALUE
        await self._run("insert_operator_event", (_month(event.ts), codec.to_us(event.ts),
                                                  codec.operator_event_id(event), event.name, event.action,
                                                  event.actor, detail))

    async def operator_events(self, limit: int = 100) -> list[OperatorEvent]:
        found: list[OperatorEvent] = []
        for month in _months_back(datetime.now(UTC), AUDIT_MONTHS_READ):  # clustered newest first
            rows = await self._run("operator_events", (month, limit - len(found)))
            found.extend(OperatorEvent(codec.from_us(ts), name, action, actor, detail)
                         for ts, name, action, actor, detail in rows)
            if len(found) >= limit:
                break
        return list(reversed(found))
