"""The SQLite store's consent and privacy methods (a mixin of `SQLiteStore`, kept apart to keep modules small).

Consent changes and the privacy audit carry no `expires_at`: they are kept until erased (consent) or for good
(audit), so the periodic purge never touches them.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from wapipe.store import codec
from wapipe.store.privacy import ConsentChange, PrivacyAudit

T = TypeVar("T")
_CONSENT_COLS = "ts_us, status, source, actor, detail, message_id"


class SQLitePrivacy:
    """Needs `_write(fn)` (one transaction on the writer thread) and `_read(sql, params)` from the store."""

    async def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        raise NotImplementedError

    async def _read(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    async def _write_unlocked(self, sql: str) -> None:
        raise NotImplementedError

    # -- consent -------------------------------------------------------------------------------------------------

    async def record_consent(self, change: ConsentChange) -> None:
        row = (codec.consent_id(change), change.tenant, change.user, codec.to_us(change.ts), change.status,
               change.source, change.actor, change.detail, change.message_id)
        await self._write(lambda c: c.execute(
            f"INSERT INTO consent_changes (change_id, tenant, user, {_CONSENT_COLS}) VALUES (?,?,?,?,?,?,?,?,?) "
            "ON CONFLICT(change_id) DO NOTHING", row))

    async def consent(self, tenant: str, user: str) -> ConsentChange | None:
        found = await self.consent_history(tenant, user, limit=1)
        return found[0] if found else None

    async def consent_history(self, tenant: str, user: str, limit: int = 100) -> list[ConsentChange]:
        rows = await self._read(
            f"SELECT {_CONSENT_COLS} FROM consent_changes WHERE tenant = ? AND user = ? "
            "ORDER BY ts_us DESC, rowid DESC LIMIT ?", (tenant, user, limit))
        return [ConsentChange(tenant, user, codec.from_us(ts), status, source, actor, detail, mid)
                for ts, status, source, actor, detail, mid in reversed(rows)]

    # -- erasure and its audit -----------------------------------------------------------------------------------

    async def erase_customer(self, tenant: str, users: Sequence[str], conversations: Sequence[str]) -> dict[str, int]:
        def erase(c: sqlite3.Connection) -> dict[str, int]:
            c.execute("PRAGMA secure_delete = ON")  # the erased rows' bytes are overwritten, not left in free pages

            def delete(table: str, column: str, values: Sequence[str]) -> int:
                if not values:
                    return 0
                marks = ",".join("?" * len(values))
                return c.execute(f"DELETE FROM {table} WHERE tenant = ? AND {column} IN ({marks})",
                                 (tenant, *values)).rowcount

            try:
                return {"turns": delete("turns", "user", users),
                        "revisions": delete("turn_revisions", "user", users),
                        "traces": delete("traces", "conversation", conversations),
                        "handoffs": delete("handoffs", "user", users),
                        "consent": delete("consent_changes", "user", users),
                        # links to these users, and links of these ids (wa_id or user_id) to anyone
                        "identities": delete("identities", "user", users) + delete("identities", "value", users)}
            finally:
                c.execute("PRAGMA secure_delete = OFF")

        counts = await self._write(erase)
        # Copy the overwritten pages from the WAL into the database file and empty the WAL, so the old page images
        # do not linger there either (best effort: a reader still on an old snapshot keeps it until it finishes).
        await self._write_unlocked("PRAGMA wal_checkpoint(TRUNCATE)")
        return counts

    async def append_privacy_audit(self, entry: PrivacyAudit) -> None:
        row = (codec.audit_id(entry), entry.tenant, codec.to_us(entry.ts), entry.action, entry.actor, entry.subject,
               json.dumps(entry.counts, sort_keys=True))
        await self._write(lambda c: c.execute(
            "INSERT INTO privacy_audit (entry_id, tenant, ts_us, action, actor, subject, counts) "
            "VALUES (?,?,?,?,?,?,?) ON CONFLICT(entry_id) DO NOTHING", row))

    async def privacy_audit(self, tenant: str, limit: int = 100) -> list[PrivacyAudit]:
        rows = await self._read(
            "SELECT ts_us, action, actor, subject, counts FROM privacy_audit WHERE tenant = ? "
            "ORDER BY ts_us DESC, rowid DESC LIMIT ?", (tenant, limit))
        return [PrivacyAudit(tenant, codec.from_us(ts), action, actor, subject, dict(json.loads(counts)))
                for ts, action, actor, subject, counts in reversed(rows)]
