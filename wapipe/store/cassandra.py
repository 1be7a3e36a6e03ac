"""Cassandra adapter of the conversation store (production), on the DataStax `cassandra-driver`.

Never blocks the event loop: queries use `execute_async` and the driver's callbacks resolve an asyncio future
through `call_soon_threadsafe`; the few blocking driver calls (connect, prepare, DDL, shutdown) run in a thread.
Routing is token-aware over DC-aware round robin; consistency (LOCAL_QUORUM by default), timeouts and the protocol
version come from `CassandraConfig`. Every conversation write carries `USING TTL <retention>`; operator tokens,
consent and the privacy audit (`cassandra_privacy.py`) have none.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from cassandra import ConsistencyLevel, OperationTimedOut
from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile, NoHostAvailable, Session
from cassandra.policies import DCAwareRoundRobinPolicy, TokenAwarePolicy
from cassandra.query import PreparedStatement, tuple_factory

from wapipe.store import cassandra_identity, cassandra_privacy, cassandra_schema, cassandra_turns, codec
from wapipe.store.cassandra_identity import CassandraIdentities
from wapipe.store.cassandra_privacy import CassandraPrivacy
from wapipe.store.cassandra_turns import CassandraTurns
from wapipe.store.port import RETENTION, HandoffEntry, OperatorToken, StoreUnavailable, TraceRecord, Turn

log = logging.getLogger(__name__)
ContactPoint = str | tuple[str, int]
TOKEN_REALM = "operators"
_TOKEN_COLS = "token_id, token_hash, name, tenants, created_us, revoked_us"

_QUERIES = {
    "insert_turn": "INSERT INTO {ks}.turns (tenant, uid, ts_us, turn_id, turn_role, turn_text, message_ids) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?) USING TTL ?",
    "last_turns": "SELECT ts_us, turn_role, turn_text, message_ids FROM {ks}.turns WHERE tenant = ? AND uid = ? "
                  "LIMIT ?",
    "insert_trace_day": "INSERT INTO {ks}.traces_by_day (tenant, day, bucket, ts_us, trace_id, body) "
                        "VALUES (?, ?, ?, ?, ?, ?) USING TTL ?",
    "insert_trace_corr": "INSERT INTO {ks}.traces_by_correlation (correlation_id, ts_us, trace_id, body) "
                         "VALUES (?, ?, ?, ?) USING TTL ?",
    "insert_trace_conv": "INSERT INTO {ks}.traces_by_conversation (tenant, conversation, ts_us, trace_id, body) "
                         "VALUES (?, ?, ?, ?, ?) USING TTL ?",
    "traces_day": "SELECT ts_us, body FROM {ks}.traces_by_day WHERE tenant = ? AND day = ? AND bucket = ? "
                  "AND ts_us >= ? AND ts_us < ? LIMIT ?",
    "traces_corr": "SELECT body FROM {ks}.traces_by_correlation WHERE correlation_id = ?",
    "traces_conv": "SELECT body FROM {ks}.traces_by_conversation WHERE tenant = ? AND conversation = ? LIMIT ?",
    "insert_handoff": "INSERT INTO {ks}.handoffs (tenant, uid, ts_us, entry_id, action, actor, reason, detail) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?) USING TTL ?",
    "handoffs": "SELECT ts_us, action, actor, reason, detail FROM {ks}.handoffs WHERE tenant = ? AND uid = ? "
                "LIMIT ?",
    # Inserted without revoked_us (binding null would write a tombstone).
    "insert_token": "INSERT INTO {ks}.operator_tokens (realm, token_hash, token_id, name, tenants, created_us) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
    "token": "SELECT " + _TOKEN_COLS + " FROM {ks}.operator_tokens WHERE realm = ? AND token_hash = ?",
    "tokens": "SELECT " + _TOKEN_COLS + " FROM {ks}.operator_tokens WHERE realm = ?",
    "revoke_token": "UPDATE {ks}.operator_tokens SET revoked_us = ? WHERE realm = ? AND token_hash = ?",
    **cassandra_identity.QUERIES,
    **cassandra_turns.QUERIES,
    **cassandra_privacy.QUERIES,
}


@dataclass(frozen=True)
class CassandraConfig:
    contact_points: tuple[ContactPoint, ...]
    keyspace: str = "wapipe"
    port: int = 9042
    consistency: str = "LOCAL_QUORUM"
    local_dc: str | None = None
    replication_factor: int = 3
    protocol_version: int | None = None  # None: negotiate the highest both sides speak
    connect_timeout: float = 5.0
    request_timeout: float = 10.0
    username: str | None = None
    password: str | None = None
    trace_buckets: int = 4
    max_in_flight: int = 1024  # requests per store; beyond it callers wait instead of overrunning the driver


class CassandraStore(CassandraIdentities, CassandraTurns, CassandraPrivacy):
    """ConversationStore, IdentityStore, consent and privacy on Cassandra. Call `migrate()` once per deployment
    (`wapipe store migrate`)."""

    def __init__(self, config: CassandraConfig, *, retention: timedelta = RETENTION) -> None:
        if config.consistency.upper() not in ConsistencyLevel.name_to_value:
            raise ValueError(f"unknown Cassandra consistency level {config.consistency!r}")
        cassandra_schema.check_name(config.keyspace)
        self.config = config
        self.retention = retention
        self._ttl = max(1, int(retention.total_seconds() + 0.999))  # never 0: TTL 0 means "never expires"
        self._cluster: Cluster | None = None
        self._session: Session | None = None
        self._prepared: dict[str, PreparedStatement] = {}
        self._lock: asyncio.Lock | None = None
        self._slots: asyncio.Semaphore | None = None

    # -- connection ----------------------------------------------------------------------------------------------

    def _profile(self) -> ExecutionProfile:
        return ExecutionProfile(
            load_balancing_policy=TokenAwarePolicy(DCAwareRoundRobinPolicy(local_dc=self.config.local_dc or "")),
            consistency_level=ConsistencyLevel.name_to_value[self.config.consistency.upper()],
            request_timeout=self.config.request_timeout,
            row_factory=tuple_factory,
        )

    def _connect_blocking(self) -> Session:
        c = self.config
        kwargs: dict[str, Any] = {
            "contact_points": list(c.contact_points), "port": c.port,
            "execution_profiles": {EXEC_PROFILE_DEFAULT: self._profile()},
            "connect_timeout": c.connect_timeout, "control_connection_timeout": c.connect_timeout,
        }
        if c.protocol_version is not None:
            kwargs["protocol_version"] = c.protocol_version
        if c.username:
            kwargs["auth_provider"] = PlainTextAuthProvider(username=c.username, password=c.password or "")
        cluster = Cluster(**kwargs)
        try:
            session = cluster.connect()
        except Exception as exc:
            cluster.shutdown()
            raise StoreUnavailable(f"cannot reach Cassandra at {self._where()}: {_reason(exc)}") from exc
        self._cluster = cluster
        return session

    def _where(self) -> str:
        return ",".join(p if isinstance(p, str) else f"{p[0]}:{p[1]}" for p in self.config.contact_points)

    async def _connected(self) -> Session:
        if self._session is None:
            if self._lock is None:
                self._lock = asyncio.Lock()
            async with self._lock:
                if self._session is None:
                    self._session = await asyncio.to_thread(self._connect_blocking)
        return self._session

    async def _stmt(self, name: str) -> PreparedStatement:
        stmt = self._prepared.get(name)
        if stmt is None:
            session = await self._connected()
            stmt = cast(PreparedStatement,
                        await asyncio.to_thread(session.prepare, _QUERIES[name].format(ks=self.config.keyspace)))
            stmt.is_idempotent = True  # content-derived keys: a retried write lands on the same row
            self._prepared[name] = stmt
        return stmt

    async def _run(self, name: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        """Execute a prepared statement without blocking the loop; follows every result page."""
        stmt = await self._stmt(name)
        session = await self._connected()
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.config.max_in_flight)
        async with self._slots:
            return await self._execute(session, stmt, params)

    @staticmethod
    async def _execute(session: Session, stmt: PreparedStatement,
                       params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[list[tuple[Any, ...]]] = loop.create_future()
        rows: list[tuple[Any, ...]] = []
        rf = session.execute_async(stmt, params)

        def on_page(page: list[tuple[Any, ...]]) -> None:  # runs on a driver thread
            rows.extend(page or ())
            if rf.has_more_pages:
                rf.start_fetching_next_page()
            else:
                loop.call_soon_threadsafe(_resolve, done, rows, None)

        def on_error(exc: BaseException) -> None:
            loop.call_soon_threadsafe(_resolve, done, None, exc)

        rf.add_callbacks(on_page, on_error)
        return await done

    # -- lifecycle -----------------------------------------------------------------------------------------------

    async def migrate(self) -> None:
        """Create the keyspace and tables (idempotent DDL; the driver waits for schema agreement)."""
        session = await self._connected()
        c = self.config
        ddl = cassandra_schema.statements(c.keyspace, c.replication_factor, c.local_dc)
        ddl.append(cassandra_schema.record_version_cql(c.keyspace))

        def apply() -> None:
            for cql in ddl:
                session.execute(cql, timeout=max(60.0, c.request_timeout))

        try:
            await asyncio.to_thread(apply)
        except (NoHostAvailable, OperationTimedOut) as exc:
            raise StoreUnavailable(f"cannot reach Cassandra at {self._where()}: {_reason(exc)}") from exc
        log.info("cassandra keyspace %s at schema version %d", c.keyspace, cassandra_schema.VERSION)

    async def purge(self) -> int:
        """Nothing to do: Cassandra expires rows by TTL and compaction drops them."""
        return 0

    async def close(self) -> None:
        cluster, self._cluster, self._session = self._cluster, None, None
        self._prepared.clear()
        if cluster is not None:
            await asyncio.to_thread(cluster.shutdown)

    # -- turns ---------------------------------------------------------------------------------------------------

    async def append_turn(self, turn: Turn) -> None:
        await self._run("insert_turn", (turn.tenant, turn.user, codec.to_us(turn.ts), codec.turn_id(turn),
                                        turn.role, turn.text, list(turn.message_ids), self._ttl))

    async def last_turns(self, tenant: str, user: str, n: int = 6) -> list[Turn]:
        rows = await self._run("last_turns", (tenant, user, n))
        turns = [Turn(tenant=tenant, user=user, ts=codec.from_us(ts), role=role, text=text,
                      message_ids=tuple(ids or ())) for ts, role, text, ids in reversed(rows)]
        if not any(t.role in codec.REVISABLE for t in turns):
            return turns
        return codec.revised(turns, await self._revisions(tenant, user))

    # -- traces --------------------------------------------------------------------------------------------------

    async def write_trace(self, trace: TraceRecord) -> None:
        ts, tid, body = codec.to_us(trace.ts), codec.trace_id(trace), codec.trace_to_body(trace)
        day = codec.from_us(ts).strftime("%Y-%m-%d")
        bucket = codec.bucket_of(trace.correlation_id, self.config.trace_buckets)
        # Three denormalised copies written concurrently; each is idempotent, so a failed write is simply retried
        # by the caller (the stream runtime) and converges.
        await asyncio.gather(
            self._run("insert_trace_day", (trace.tenant, day, bucket, ts, tid, body, self._ttl)),
            self._run("insert_trace_corr", (trace.correlation_id, ts, tid, body, self._ttl)),
            self._run("insert_trace_conv", (trace.tenant, trace.conversation, ts, tid, body, self._ttl)),
        )

    async def traces_by_conversation(self, tenant: str, conversation: str, limit: int = 50) -> list[TraceRecord]:
        rows = await self._run("traces_conv", (tenant, conversation, limit))
        return [codec.trace_from_body(b) for (b,) in reversed(rows)]

    async def traces_by_correlation(self, correlation_id: str) -> list[TraceRecord]:
        rows = await self._run("traces_corr", (correlation_id,))
        return [codec.trace_from_body(b) for (b,) in rows]

    async def traces_between(self, tenant: str, start: datetime, end: datetime,
                             limit: int = 1000) -> list[TraceRecord]:
        lo, hi = codec.to_us(start), codec.to_us(end)
        # Nothing older than the retention exists: don't walk empty day partitions before it.
        now = datetime.now(UTC)
        day = max(codec.from_us(lo), now - self.retention - timedelta(days=1)).date()
        last = min(codec.from_us(max(lo, hi - 1)), now + timedelta(days=1)).date()
        found: list[tuple[int, str]] = []
        while day <= last and len(found) < limit:
            key = day.strftime("%Y-%m-%d")
            pages = await asyncio.gather(*(self._run("traces_day", (tenant, key, b, lo, hi, limit))
                                           for b in range(self.config.trace_buckets)))
            # Days are visited in order, so once `limit` rows are in hand later days cannot displace them.
            found.extend(sorted((ts, body) for page in pages for ts, body in page))
            day += timedelta(days=1)
        return [codec.trace_from_body(body) for _, body in found[:limit]]

    # -- handoff audit -------------------------------------------------------------------------------------------

    async def append_handoff(self, entry: HandoffEntry) -> None:
        await self._run("insert_handoff", (entry.tenant, entry.user, codec.to_us(entry.ts), codec.handoff_id(entry),
                                           entry.action, entry.actor, entry.reason, entry.detail, self._ttl))

    async def handoffs(self, tenant: str, user: str, limit: int = 50) -> list[HandoffEntry]:
        rows = await self._run("handoffs", (tenant, user, limit))
        return [HandoffEntry(tenant=tenant, user=user, ts=codec.from_us(ts), action=action, actor=actor,
                             reason=reason, detail=detail) for ts, action, actor, reason, detail in reversed(rows)]

    # -- operator tokens -----------------------------------------------------------------------------------------

    async def add_operator_token(self, token: OperatorToken) -> None:
        await self._run("insert_token", (TOKEN_REALM, token.token_hash, token.token_id, token.name,
                                         set(token.tenants), codec.to_us(token.created_at)))
        if token.revoked_at is not None:
            await self._run("revoke_token", (codec.to_us(token.revoked_at), TOKEN_REALM, token.token_hash))

    async def operator_token(self, token_hash: str) -> OperatorToken | None:
        rows = await self._run("token", (TOKEN_REALM, token_hash))
        return _token(rows[0]) if rows else None

    async def operator_tokens(self) -> list[OperatorToken]:
        rows = await self._run("tokens", (TOKEN_REALM,))
        return sorted((_token(r) for r in rows), key=lambda t: (t.created_at, t.token_id))

    async def revoke_operator_token(self, token_id: str, at: datetime) -> OperatorToken | None:
        # The partition is small; finding the id in it saves a second table kept in step with this one.
        found = next((t for t in await self.operator_tokens() if t.token_id == token_id), None)
        if found is None or found.revoked_at is not None:
            return found
        await self._run("revoke_token", (codec.to_us(at), TOKEN_REALM, found.token_hash))
        return OperatorToken(found.token_id, found.token_hash, found.name, found.tenants, found.created_at,
                             codec.from_us(codec.to_us(at)))


def _token(row: tuple[Any, ...]) -> OperatorToken:
    token_id, token_hash, name, tenants, created_us, revoked_us = row
    return OperatorToken(token_id=token_id, token_hash=token_hash, name=name, tenants=frozenset(tenants or ()),
                         created_at=codec.from_us(created_us),
                         revoked_at=codec.from_us(revoked_us) if revoked_us is not None else None)


def _resolve(fut: asyncio.Future[list[tuple[Any, ...]]], rows: list[tuple[Any, ...]] | None,
             exc: BaseException | None) -> None:
    if fut.done():  # the awaiting task was cancelled meanwhile
        return
    if exc is not None:
        fut.set_exception(exc)
    else:
        fut.set_result(rows or [])


def _reason(exc: BaseException) -> str:
    if isinstance(exc, NoHostAvailable) and exc.errors:
        first = next(iter(exc.errors.values()))
        return f"no host available ({first})"
    return str(exc) or type(exc).__name__
