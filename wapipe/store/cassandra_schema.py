"""Cassandra schema: keyspace and tables, created by idempotent migrations (`CREATE ... IF NOT EXISTS`).

Partitions stay bounded: turns, their revisions and the handoff audit by (tenant, user), which retention caps
at 30 days of one customer; traces for time-range queries by (tenant, day, bucket), a few buckets per day so a
busy tenant's day is spread over several replicas; plus two lookup tables (by correlation id, by conversation).
Every conversation row has a TTL (written with `USING TTL`, the table default is the safety net) and
TimeWindowCompactionStrategy drops whole expired SSTables instead of compacting tombstones. Two exceptions never
expire: operator tokens (they are revoked), in one small partition (`realm`), read by hash on every operator API
request and listed whole by `wapipe operators token list`; and the identity mapping (`identities` by id,
`identities_by_user` by the conversation's user, a few rows per customer), kept until erased. So are consent
changes (by customer) and the privacy audit (by tenant), in small partitions with the default compaction, and the
console's accounts (one `realm` partition) and the operators' audit (by month).
"""

from __future__ import annotations

import re

from wapipe.store.port import RETENTION

VERSION = 5
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,47}$")
_TABLE_OPTS = (
    "default_time_to_live = {ttl} AND compaction = {{'class': 'TimeWindowCompactionStrategy', "
    "'compaction_window_unit': 'DAYS', 'compaction_window_size': 1}}"
)

TABLES: tuple[str, ...] = (
    # Column names avoid CQL keywords (user, role, text) so no statement needs quoting.
    """CREATE TABLE IF NOT EXISTS {ks}.turns (
        tenant text, uid text, ts_us bigint, turn_id text, turn_role text, turn_text text, message_ids list<text>,
        PRIMARY KEY ((tenant, uid), ts_us, turn_id)
    ) WITH CLUSTERING ORDER BY (ts_us DESC, turn_id ASC) AND """ + _TABLE_OPTS,
    """CREATE TABLE IF NOT EXISTS {ks}.traces_by_day (
        tenant text, day text, bucket int, ts_us bigint, trace_id text, body text,
        PRIMARY KEY ((tenant, day, bucket), ts_us, trace_id)
    ) WITH CLUSTERING ORDER BY (ts_us ASC, trace_id ASC) AND """ + _TABLE_OPTS,
    """CREATE TABLE IF NOT EXISTS {ks}.traces_by_correlation (
        correlation_id text, ts_us bigint, trace_id text, body text,
        PRIMARY KEY ((correlation_id), ts_us, trace_id)
    ) WITH CLUSTERING ORDER BY (ts_us ASC, trace_id ASC) AND """ + _TABLE_OPTS,
    """CREATE TABLE IF NOT EXISTS {ks}.traces_by_conversation (
        tenant text, conversation text, ts_us bigint, trace_id text, body text,
        PRIMARY KEY ((tenant, conversation), ts_us, trace_id)
    ) WITH CLUSTERING ORDER BY (ts_us DESC, trace_id ASC) AND """ + _TABLE_OPTS,
    """CREATE TABLE IF NOT EXISTS {ks}.handoffs (
        tenant text, uid text, ts_us bigint, entry_id text, action text, actor text, reason text, detail text,
        PRIMARY KEY ((tenant, uid), ts_us, entry_id)
    ) WITH CLUSTERING ORDER BY (ts_us DESC, entry_id ASC) AND """ + _TABLE_OPTS,
    # Version 3. The customer's edits and deletions by message id, applied to the turns carrying it when read.
    """CREATE TABLE IF NOT EXISTS {ks}.turn_revisions (
        tenant text, uid text, message_id text, rev_text text, deleted boolean, at_us bigint,
        PRIMARY KEY ((tenant, uid), message_id)
    ) WITH """ + _TABLE_OPTS,
    # The wa_id <-> user_id mapping, kept until erased (no TTL): by id, and by the conversation's user.
    """CREATE TABLE IF NOT EXISTS {ks}.identities (
        tenant text, kind text, id_value text, uid text, since_us bigint, retired_us bigint,
        PRIMARY KEY ((tenant, kind, id_value))
    )""",
    """CREATE TABLE IF NOT EXISTS {ks}.identities_by_user (
        tenant text, uid text, kind text, id_value text, since_us bigint, retired_us bigint,
        PRIMARY KEY ((tenant, uid), kind, id_value)
    )""",
    """CREATE TABLE IF NOT EXISTS {ks}.schema_migrations (version int PRIMARY KEY, applied_at timestamp)""",
    # Version 2. No TTL: a token lasts until revoked. One partition per realm (a few hundred rows at most).
    """CREATE TABLE IF NOT EXISTS {ks}.operator_tokens (
        realm text, token_hash text, token_id text, name text, tenants set<text>, created_us bigint,
        revoked_us bigint,
        PRIMARY KEY ((realm), token_hash)
    )""",
    # Version 4: no TTL. An opt-out outlives the 30-day conversation data; erasure deletes the partition.
    """CREATE TABLE IF NOT EXISTS {ks}.consent_changes (
        tenant text, uid text, ts_us bigint, change_id text, status text, source text, actor text, detail text,
        message_id text,
        PRIMARY KEY ((tenant, uid), ts_us, change_id)
    ) WITH CLUSTERING ORDER BY (ts_us DESC, change_id ASC)""",
    """CREATE TABLE IF NOT EXISTS {ks}.privacy_audit (
        tenant text, ts_us bigint, entry_id text, action text, actor text, subject text, counts text,
        PRIMARY KEY ((tenant), ts_us, entry_id)
    ) WITH CLUSTERING ORDER BY (ts_us DESC, entry_id ASC)""",
    # Version 5: console accounts (one small partition, like the tokens) and the operators' audit by month.
    """CREATE TABLE IF NOT EXISTS {ks}.operator_accounts (
        realm text, name text, role text, tenants set<text>, password_hash text, created_us bigint,
        password_set_us bigint, disabled_us bigint,
        PRIMARY KEY ((realm), name)
    )""",
    """CREATE TABLE IF NOT EXISTS {ks}.operator_events (
        month text, ts_us bigint, event_id text, name text, action text, actor text, detail text,
        PRIMARY KEY ((month), ts_us, event_id)
    ) WITH CLUSTERING ORDER BY (ts_us DESC, event_id ASC)""",
)
KEPT_TABLES = ("identities", "identities_by_user", "schema_migrations", "operator_tokens", "consent_changes",
               "privacy_audit", "operator_accounts", "operator_events")  # no TTL


def check_name(keyspace: str) -> str:
    """Keyspace names are interpolated into CQL, so only plain identifiers are accepted."""
    if not _NAME.match(keyspace):
        raise ValueError(f"invalid Cassandra keyspace name {keyspace!r}")
    return keyspace


def keyspace_cql(keyspace: str, replication_factor: int, local_dc: str | None) -> str:
    if local_dc:
        replication = f"{{'class': 'NetworkTopologyStrategy', '{local_dc}': {replication_factor}}}"
    else:
        replication = f"{{'class': 'SimpleStrategy', 'replication_factor': {replication_factor}}}"
    return f"CREATE KEYSPACE IF NOT EXISTS {check_name(keyspace)} WITH replication = {replication}"


def statements(keyspace: str, replication_factor: int, local_dc: str | None) -> list[str]:
    """Every DDL statement, in order; running them again changes nothing."""
    ks = check_name(keyspace)
    ttl = int(RETENTION.total_seconds())
    return [keyspace_cql(ks, replication_factor, local_dc)] + [t.format(ks=ks, ttl=ttl) for t in TABLES]


def record_version_cql(keyspace: str) -> str:
    return (f"INSERT INTO {check_name(keyspace)}.schema_migrations (version, applied_at) "
            f"VALUES ({VERSION}, toTimestamp(now()))")
