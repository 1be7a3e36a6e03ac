"""Records survive the trip through every backend's encoding unchanged."""

from __future__ import annotations

from datetime import UTC, datetime

from wapipe.store import TraceRecord, Turn, cassandra_schema, codec


def test_timestamps_keep_microseconds_and_naive_means_utc() -> None:
    ts = datetime(2026, 3, 1, 12, 30, 45, 123456, tzinfo=UTC)
    assert codec.from_us(codec.to_us(ts)) == ts
    assert codec.to_us(ts.replace(tzinfo=None)) == codec.to_us(ts)
    assert codec.from_us(codec.to_us(datetime(1969, 12, 31, 23, 59, 59, 1, tzinfo=UTC))).microsecond == 1


def test_trace_body_round_trip() -> None:
    t = TraceRecord("pn", "pn:u", "wamid.1", datetime(2026, 3, 1, tzinfo=UTC), "replied", route="ai",
                    decision_path=("a", "b"), llm_called=True, stages={"ai": 1.5}, attrs={"x": "ñ", "n": 3})
    assert codec.trace_from_body(codec.trace_to_body(t)) == t


def test_ids_depend_on_content_only() -> None:
    a = Turn("pn", "u", datetime(2026, 3, 1, tzinfo=UTC), "customer", "hola")
    assert codec.turn_id(a) == codec.turn_id(Turn("pn", "u", a.ts, "customer", "hola"))
    assert codec.turn_id(a) != codec.turn_id(Turn("pn", "u", a.ts, "assistant", "hola"))


def test_trace_buckets_are_stable_and_in_range() -> None:
    buckets = {codec.bucket_of(f"wamid.{i}", 4) for i in range(200)}
    assert buckets == {0, 1, 2, 3}
    assert codec.bucket_of("wamid.HBgM", 4) == codec.bucket_of("wamid.HBgM", 4)


def test_cassandra_ddl_is_idempotent_and_ttl_bounded() -> None:
    ddl = cassandra_schema.statements("wapipe", 3, "dc1")
    assert all(s.startswith(("CREATE KEYSPACE IF NOT EXISTS", "CREATE TABLE IF NOT EXISTS")) for s in ddl)
    assert "'dc1': 3" in ddl[0]
    tables = {s.split("IF NOT EXISTS wapipe.", 1)[1].split()[0]: s for s in ddl[1:]}
    # bookkeeping, credentials (revoked, never expired), the identity map (kept until erased), an opt-out (outlives
    # the conversation data), the privacy audit, console accounts (disabled, never expired) and the operators' audit
    kept = {"schema_migrations", "operator_tokens", "identities", "identities_by_user", "consent_changes",
            "privacy_audit", "operator_accounts", "operator_events"}
    assert kept < set(tables) and set(cassandra_schema.KEPT_TABLES) == kept
    assert all("default_time_to_live = 2592000" in s for name, s in tables.items() if name not in kept)
    assert not any("default_time_to_live" in tables[name] for name in kept)
