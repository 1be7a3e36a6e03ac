"""SQLite schema migrations: applied in order, recorded in `PRAGMA user_version`, each statement idempotent.

Times are integer microseconds since the epoch (UTC); `expires_at` is the instant a row stops being visible
(reads filter on it, the periodic purge deletes it). Ids are derived from content, so a redelivered write is an
upsert that only refreshes `expires_at` (the same effect as re-writing a row with a TTL in Cassandra).
"""

from __future__ import annotations

import sqlite3

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE IF NOT EXISTS turns (
            turn_id TEXT PRIMARY KEY, tenant TEXT NOT NULL, user TEXT NOT NULL, ts_us INTEGER NOT NULL,
            role TEXT NOT NULL, text TEXT NOT NULL, message_ids TEXT NOT NULL, expires_at INTEGER NOT NULL)""",
        # rowid rides at the end of every index: ties on ts_us come back in insertion order.
        "CREATE INDEX IF NOT EXISTS turns_by_user ON turns (tenant, user, ts_us)",
        "CREATE INDEX IF NOT EXISTS turns_by_expiry ON turns (expires_at)",
        """CREATE TABLE IF NOT EXISTS traces (
            trace_id TEXT PRIMARY KEY, tenant TEXT NOT NULL, conversation TEXT NOT NULL,
            correlation_id TEXT NOT NULL, ts_us INTEGER NOT NULL, outcome TEXT NOT NULL, body TEXT NOT NULL,
            expires_at INTEGER NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS traces_by_conversation ON traces (tenant, conversation, ts_us)",
        "CREATE INDEX IF NOT EXISTS traces_by_correlation ON traces (correlation_id, ts_us)",
        "CREATE INDEX IF NOT EXISTS traces_by_time ON traces (tenant, ts_us)",
        "CREATE INDEX IF NOT EXISTS traces_by_expiry ON traces (expires_at)",
        """CREATE TABLE IF NOT EXISTS handoffs (
            entry_id TEXT PRIMARY KEY, tenant TEXT NOT NULL, user TEXT NOT NULL, ts_us INTEGER NOT NULL,
            action TEXT NOT NULL, actor TEXT NOT NULL, reason TEXT, detail TEXT, expires_at INTEGER NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS handoffs_by_user ON handoffs (tenant, user, ts_us)",
        "CREATE INDEX IF NOT EXISTS handoffs_by_expiry ON handoffs (expires_at)",
    ),
    (
        # Operator API tokens: no expires_at (they are revoked, not expired) and not purged.
        """CREATE TABLE IF NOT EXISTS operator_tokens (
            token_hash TEXT PRIMARY KEY, token_id TEXT NOT NULL, name TEXT NOT NULL, tenants TEXT NOT NULL,
            created_us INTEGER NOT NULL, revoked_us INTEGER)""",
        "CREATE UNIQUE INDEX IF NOT EXISTS operator_tokens_by_id ON operator_tokens (token_id)",
    ),
    (
        # The wa_id <-> user_id mapping: no expires_at, it is kept until erased.
        """CREATE TABLE IF NOT EXISTS identities (
            tenant TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL, user TEXT NOT NULL,
            since_us INTEGER NOT NULL, retired_us INTEGER, PRIMARY KEY (tenant, kind, value))""",
        "CREATE INDEX IF NOT EXISTS identities_by_user ON identities (tenant, user, since_us)",
        # The customer's edits and deletions, applied to the turns carrying the message id when they are read.
        """CREATE TABLE IF NOT EXISTS turn_revisions (
            tenant TEXT NOT NULL, user TEXT NOT NULL, message_id TEXT NOT NULL, text TEXT NOT NULL,
            deleted INTEGER NOT NULL, at_us INTEGER NOT NULL, expires_at INTEGER NOT NULL,
            PRIMARY KEY (tenant, user, message_id))""",
        "CREATE INDEX IF NOT EXISTS turn_revisions_by_expiry ON turn_revisions (expires_at)",
    ),
    (
        # Consent changes and the privacy audit never expire (no expires_at, never purged): an opt-out must
        # outlive the 30-day conversation data; erasure deletes a customer's consent rows.
        """CREATE TABLE IF NOT EXISTS consent_changes (
            change_id TEXT PRIMARY KEY, tenant TEXT NOT NULL, user TEXT NOT NULL, ts_us INTEGER NOT NULL,
            status TEXT NOT NULL, source TEXT NOT NULL, actor TEXT NOT NULL, detail TEXT, message_id TEXT)""",
        "CREATE INDEX IF NOT EXISTS consent_by_user ON consent_changes (tenant, user, ts_us)",
        """CREATE TABLE IF NOT EXISTS privacy_audit (
            entry_id TEXT PRIMARY KEY, tenant TEXT NOT NULL, ts_us INTEGER NOT NULL, action TEXT NOT NULL,
            actor TEXT NOT NULL, subject TEXT NOT NULL, counts TEXT NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS privacy_audit_by_tenant ON privacy_audit (tenant, ts_us)",
    ),
    (
        # Operator console accounts and the operators' audit (sign-ins, account changes): never expire.
        """CREATE TABLE IF NOT EXISTS operator_accounts (
            name TEXT PRIMARY KEY, role TEXT NOT NULL, tenants TEXT NOT NULL, password_hash TEXT NOT NULL,
            created_us INTEGER NOT NULL, password_set_us INTEGER NOT NULL, disabled_us INTEGER)""",
        """CREATE TABLE IF NOT EXISTS operator_events (
            event_id TEXT PRIMARY KEY, ts_us INTEGER NOT NULL, name TEXT NOT NULL, action TEXT NOT NULL,
            actor TEXT NOT NULL, detail TEXT)""",
        "CREATE INDEX IF NOT EXISTS operator_events_by_time ON operator_events (ts_us)",
    ),
)

TABLES = ("turns", "traces", "handoffs", "turn_revisions")  # the tables whose rows expire (purged)


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema up to date; returns the version. Safe when several processes migrate at once."""
    # BEGIN IMMEDIATE takes the write lock before reading the version, so two migrators cannot interleave.
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        for number, statements in enumerate(MIGRATIONS[version:], start=version + 1):
            for sql in statements:
                conn.execute(sql)
            conn.execute(f"PRAGMA user_version = {number}")
            version = number
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return version
