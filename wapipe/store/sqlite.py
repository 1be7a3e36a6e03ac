"""SQLite adapter of the conversation store: the embedded default (`sqlite:///.wapipe/wapipe.db`).

Every statement runs off the event loop. Writes go through one dedicated writer thread (one connection, so writers
in this process never contend for SQLite's lock), the writes queued together committed as one transaction
(`sqlite_writer`); reads run on a small pool, one connection per thread, which WAL
lets proceed while a write is in progress. Other processes on the same file wait on `busy_timeout`.
Rows carry `expires_at`: reads ignore expired rows and a periodic task deletes them (operator tokens, consent
and the privacy audit (`sqlite_privacy.py`) never expire).
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from wapipe.store import codec, sqlite_schema
from wapipe.store.port import RETENTION, HandoffEntry, OperatorToken, StoreUnavailable, TraceRecord, Turn
from wapipe.store.sqlite_accounts import SQLiteAccounts
from wapipe.store.sqlite_identity import SQLiteIdentities
from wapipe.store.sqlite_moves import move_user
from wapipe.store.sqlite_privacy import SQLitePrivacy
from wapipe.store.sqlite_writer import GroupWriter

log = logging.getLogger(__name__)
T = TypeVar("T")
PURGE_BATCH = 5000


class SQLiteStore(SQLiteIdentities, SQLitePrivacy, SQLiteAccounts):
    """ConversationStore, IdentityStore, consent, privacy and console accounts on one SQLite file. `retention`
    and `purge_interval` are injectable (tests use seconds)."""

    def __init__(self, path: str | Path, *, retention: timedelta = RETENTION, purge_interval: float = 3600.0,
                 readers: int = 4, busy_timeout: float = 10.0, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.retention = retention
        self.purge_interval = purge_interval
        self.busy_timeout = busy_timeout
        self._clock = clock
        self._writer = GroupWriter(self._conn)
        self._readers = ThreadPoolExecutor(max(1, readers), thread_name_prefix="wapipe-sqlite-reader")
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._ready = False
        self._start_lock: asyncio.Lock | None = None
        self._purger: asyncio.Task[None] | None = None
        self._closed = False

    # -- threads -------------------------------------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                # isolation_level=None: we issue BEGIN/COMMIT ourselves; the connection never leaves its thread
                # (check_same_thread=False only so close() can close it after the threads have stopped).
                conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None,
                                       check_same_thread=False)
                _enable_wal(conn, self.busy_timeout)
                conn.execute("PRAGMA synchronous=NORMAL")  # durable across crashes of the process in WAL mode
            except (sqlite3.Error, OSError) as exc:
                raise StoreUnavailable(f"cannot open SQLite store at {self.path}: {exc}") from exc
            self._local.conn = conn
            with self._conns_lock:
                self._conns.append(conn)
        return conn

    async def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """`fn` in a write transaction on the writer thread, grouped with the writes beside it (`sqlite_writer`)."""
        await self._start()
        return await self._writer.write(fn)

    async def _write_unlocked(self, sql: str) -> None:
        """One statement on the writer's connection outside a transaction (checkpoints, pragmas)."""
        await self._start()
        await self._writer.run(lambda: self._conn().execute(sql).fetchall())

    async def _read(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        await self._start()

        def run() -> list[tuple[Any, ...]]:
            return self._conn().execute(sql, params).fetchall()

        return await asyncio.get_running_loop().run_in_executor(self._readers, run)

    def _now_us(self) -> int:
        return int(self._clock() * 1_000_000)

    def _expires_at(self) -> int:
        return self._now_us() + int(self.retention.total_seconds() * 1_000_000)

    # -- lifecycle -----------------------------------------------------------------------------------------------

    async def migrate(self) -> None:
        """Create or upgrade the schema (idempotent). Also runs on first use: the embedded store just works."""
        if self._closed:
            raise StoreUnavailable("store is closed")
        try:
            version = await self._writer.run(lambda: sqlite_schema.migrate(self._conn()))
        except sqlite3.DatabaseError as exc:  # locked past busy_timeout, not a database, read-only, ...
            raise StoreUnavailable(f"cannot migrate SQLite store at {self.path}: {exc}") from exc
        log.debug("sqlite store %s at schema version %d", self.path, version)
        self._ready = True

    async def _start(self) -> None:
        if not self._ready:
            if self._start_lock is None:
                self._start_lock = asyncio.Lock()
            async with self._start_lock:
                if not self._ready:
                    await self.migrate()
        if self._purger is None and self.purge_interval > 0 and not self._closed:
            self._purger = asyncio.create_task(self._purge_forever(), name="wapipe-sqlite-purge")

    async def _purge_forever(self) -> None:
        while True:
            await asyncio.sleep(self.purge_interval)
            try:
                removed = await self.purge()
                if removed:
                    log.info("purged %d expired rows from %s", removed, self.path)
            except Exception:  # a failed purge is retried next period; reads already hide expired rows
                log.exception("periodic purge of %s failed", self.path)

    async def purge(self) -> int:
        """Delete expired rows in small batches (short write locks); returns how many were deleted."""
        now = self._now_us()

        def batch(table: str, conn: sqlite3.Connection) -> int:
            cur = conn.execute(
                f"DELETE FROM {table} WHERE rowid IN "
                f"(SELECT rowid FROM {table} WHERE expires_at <= ? LIMIT {PURGE_BATCH})", (now,))
            return cur.rowcount

        total = 0
        for table in sqlite_schema.TABLES:
            while (n := await self._write(partial(batch, table))) > 0:
                total += n
        return total

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._purger is not None:
            self._purger.cancel()
            await asyncio.gather(self._purger, return_exceptions=True)
        await asyncio.to_thread(self._shutdown)

    def _shutdown(self) -> None:
        self._writer.shutdown()
        self._readers.shutdown(wait=True)
        with self._conns_lock:
            for conn in self._conns:
                conn.close()
            self._conns.clear()

    # -- turns ---------------------------------------------------------------------------------------------------

    async def append_turn(self, turn: Turn) -> None:
        row = (codec.turn_id(turn), turn.tenant, turn.user, codec.to_us(turn.ts), turn.role, turn.text,
               json.dumps(list(turn.message_ids)), self._expires_at())
        await self._write(lambda c: c.execute(
            "INSERT INTO turns (turn_id, tenant, user, ts_us, role, text, message_ids, expires_at) "
            "VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(turn_id) DO UPDATE SET expires_at = excluded.expires_at", row))

    async def last_turns(self, tenant: str, user: str, n: int = 6) -> list[Turn]:
        rows = await self._read(
            "SELECT ts_us, role, text, message_ids FROM turns WHERE tenant = ? AND user = ? AND expires_at > ? "
            "ORDER BY ts_us DESC, rowid DESC LIMIT ?", (tenant, user, self._now_us(), n))
        turns = [Turn(tenant=tenant, user=user, ts=codec.from_us(ts), role=role, text=text,
                      message_ids=tuple(json.loads(ids))) for ts, role, text, ids in reversed(rows)]
        if not any(t.role in codec.REVISABLE for t in turns):
            return turns
        revisions = await self._read(
            "SELECT message_id, text, deleted, at_us FROM turn_revisions WHERE tenant = ? AND user = ? "
            "AND expires_at > ?", (tenant, user, self._now_us()))
        return codec.revised(turns, [codec.Revision(m, text, bool(d), at) for m, text, d, at in revisions])

    async def revise_turn(self, tenant: str, user: str, message_id: str, text: str | None, at: datetime) -> None:
        row = (tenant, user, message_id, text or "", int(text is None), codec.to_us(at), self._expires_at())
        # A deletion is final; otherwise the newest edit wins, whatever order they are written in.
        await self._write(lambda c: c.execute(
            "INSERT INTO turn_revisions (tenant, user, message_id, text, deleted, at_us, expires_at) "
            "VALUES (?,?,?,?,?,?,?) ON CONFLICT(tenant, user, message_id) DO UPDATE SET "
            "text = CASE WHEN turn_revisions.deleted = 1 OR excluded.deleted = 1 THEN '' "
            "WHEN excluded.at_us >= turn_revisions.at_us THEN excluded.text ELSE turn_revisions.text END, "
            "deleted = MAX(turn_revisions.deleted, excluded.deleted), "
            "at_us = MAX(turn_revisions.at_us, excluded.at_us), expires_at = excluded.expires_at", row))

    async def move_conversation(self, tenant: str, from_user: str, to_user: str) -> int:
        if from_user == to_user:
            return 0
        return await self._write(partial(move_user, tenant, from_user, to_user))

    # -- traces --------------------------------------------------------------------------------------------------

    async def write_trace(self, trace: TraceRecord) -> None:
        row = (codec.trace_id(trace), trace.tenant, trace.conversation, trace.correlation_id,
               codec.to_us(trace.ts), trace.outcome, codec.trace_to_body(trace), self._expires_at())
        await self._write(lambda c: c.execute(
            "INSERT INTO traces (trace_id, tenant, conversation, correlation_id, ts_us, outcome, body, expires_at) "
            "VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(trace_id) DO UPDATE SET body = excluded.body, "
            "expires_at = excluded.expires_at", row))

    async def traces_by_conversation(self, tenant: str, conversation: str, limit: int = 50) -> list[TraceRecord]:
        rows = await self._read(
            "SELECT body FROM traces WHERE tenant = ? AND conversation = ? AND expires_at > ? "
            "ORDER BY ts_us DESC, rowid DESC LIMIT ?", (tenant, conversation, self._now_us(), limit))
        return [codec.trace_from_body(b) for (b,) in reversed(rows)]

    async def traces_by_correlation(self, correlation_id: str) -> list[TraceRecord]:
        rows = await self._read(
            "SELECT body FROM traces WHERE correlation_id = ? AND expires_at > ? ORDER BY ts_us, rowid",
            (correlation_id, self._now_us()))
        return [codec.trace_from_body(b) for (b,) in rows]

    async def traces_between(self, tenant: str, start: datetime, end: datetime,
                             limit: int = 1000) -> list[TraceRecord]:
        rows = await self._read(
            "SELECT body FROM traces WHERE tenant = ? AND ts_us >= ? AND ts_us < ? AND expires_at > ? "
            "ORDER BY ts_us, rowid LIMIT ?",
            (tenant, codec.to_us(start), codec.to_us(end), self._now_us(), limit))
        return [codec.trace_from_body(b) for (b,) in rows]

    # -- handoff audit -------------------------------------------------------------------------------------------

    async def append_handoff(self, entry: HandoffEntry) -> None:
        row = (codec.handoff_id(entry), entry.tenant, entry.user, codec.to_us(entry.ts), entry.action, entry.actor,
               entry.reason, entry.detail, self._expires_at())
        await self._write(lambda c: c.execute(
            "INSERT INTO handoffs (entry_id, tenant, user, ts_us, action, actor, reason, detail, expires_at) "
            "VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(entry_id) DO UPDATE SET expires_at = excluded.expires_at", row))

    async def handoffs(self, tenant: str, user: str, limit: int = 50) -> list[HandoffEntry]:
        rows = await self._read(
            "SELECT ts_us, action, actor, reason, detail FROM handoffs WHERE tenant = ? AND user = ? "
            "AND expires_at > ? ORDER BY ts_us DESC, rowid DESC LIMIT ?", (tenant, user, self._now_us(), limit))
        return [HandoffEntry(tenant=tenant, user=user, ts=codec.from_us(ts), action=action, actor=actor,
                             reason=reason, detail=detail) for ts, action, actor, reason, detail in reversed(rows)]

    # -- operator tokens -----------------------------------------------------------------------------------------

    _TOKEN_COLS = "token_id, token_hash, name, tenants, created_us, revoked_us"

    async def add_operator_token(self, token: OperatorToken) -> None:
        row = (token.token_id, token.token_hash, token.name, json.dumps(sorted(token.tenants)),
               codec.to_us(token.created_at), codec.to_us(token.revoked_at) if token.revoked_at else None)
        await self._write(lambda c: c.execute(
            f"INSERT INTO operator_tokens ({self._TOKEN_COLS}) VALUES (?,?,?,?,?,?) "
            "ON CONFLICT(token_hash) DO NOTHING", row))

    async def operator_token(self, token_hash: str) -> OperatorToken | None:
        rows = await self._read(f"SELECT {self._TOKEN_COLS} FROM operator_tokens WHERE token_hash = ?",
                                (token_hash,))
        return _token(rows[0]) if rows else None

    async def operator_tokens(self) -> list[OperatorToken]:
        rows = await self._read(f"SELECT {self._TOKEN_COLS} FROM operator_tokens ORDER BY created_us, rowid", ())
        return [_token(r) for r in rows]

    async def revoke_operator_token(self, token_id: str, at: datetime) -> OperatorToken | None:
        def revoke(c: sqlite3.Connection) -> list[tuple[Any, ...]]:
            c.execute("UPDATE operator_tokens SET revoked_us = COALESCE(revoked_us, ?) WHERE token_id = ?",
                      (codec.to_us(at), token_id))
            return c.execute(f"SELECT {self._TOKEN_COLS} FROM operator_tokens WHERE token_id = ?",
                             (token_id,)).fetchall()

        rows = await self._write(revoke)
        return _token(rows[0]) if rows else None


def _token(row: tuple[Any, ...]) -> OperatorToken:
    token_id, token_hash, name, tenants, created_us, revoked_us = row
    return OperatorToken(token_id=token_id, token_hash=token_hash, name=name, tenants=frozenset(json.loads(tenants)),
                         created_at=codec.from_us(created_us),
                         revoked_at=codec.from_us(revoked_us) if revoked_us is not None else None)


def _enable_wal(conn: sqlite3.Connection, timeout_s: float) -> None:
    """Switching a new file to WAL needs a moment of exclusive access, and SQLite does not always wait for it
    through the busy handler: several processes opening one new store at once retry here until `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.05)
