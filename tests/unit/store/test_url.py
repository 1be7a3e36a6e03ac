"""`open_store` URL handling: what an operator writes in WAPIPE_STORE_URL is what the store uses."""

from __future__ import annotations

from pathlib import Path

import pytest
from cassandra import ConsistencyLevel
from cassandra.policies import DCAwareRoundRobinPolicy, TokenAwarePolicy

from wapipe.store import open_store
from wapipe.store.cassandra import CassandraStore
from wapipe.store.sqlite import SQLiteStore


def test_sqlite_relative_and_absolute_paths() -> None:
    rel = open_store("sqlite:///.wapipe/wapipe.db")
    assert isinstance(rel, SQLiteStore) and rel.path == Path(".wapipe/wapipe.db")
    absolute = open_store("sqlite:////var/lib/wapipe/wapipe.db")
    assert isinstance(absolute, SQLiteStore) and absolute.path == Path("/var/lib/wapipe/wapipe.db")


def test_cassandra_url_with_everything() -> None:
    store = open_store("cassandra://svc:p%40ss@10.0.0.1,10.0.0.2:9142/wapipe_prod?consistency=QUORUM&dc=bogota"
                       "&rf=3&protocol_version=5&connect_timeout=2.5&request_timeout=4&buckets=8")
    assert isinstance(store, CassandraStore)
    c = store.config
    assert c.contact_points == ("10.0.0.1", ("10.0.0.2", 9142))
    assert (c.keyspace, c.consistency, c.local_dc, c.replication_factor) == ("wapipe_prod", "QUORUM", "bogota", 3)
    assert (c.protocol_version, c.connect_timeout, c.request_timeout, c.trace_buckets) == (5, 2.5, 4.0, 8)
    assert (c.username, c.password) == ("svc", "p@ss")


def test_cassandra_defaults_and_contact_points_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAPIPE_CASSANDRA_CONTACT_POINTS", "cass-0.cass, cass-1.cass:9043")
    store = open_store("cassandra:///")
    assert isinstance(store, CassandraStore)
    c = store.config
    assert c.contact_points == ("cass-0.cass", ("cass-1.cass", 9043))
    assert (c.keyspace, c.consistency, c.protocol_version) == ("wapipe", "LOCAL_QUORUM", None)
    profile = store._profile()
    assert profile.consistency_level == ConsistencyLevel.LOCAL_QUORUM
    assert isinstance(profile.load_balancing_policy, TokenAwarePolicy)
    assert isinstance(profile.load_balancing_policy._child_policy, DCAwareRoundRobinPolicy)


@pytest.mark.parametrize("url", [
    "postgres://localhost/db",
    ".wapipe/wapipe.db",
    "sqlite://",
    "cassandra://h1/bad-keyspace;DROP",
    "cassandra://h1/wapipe?consistency=MOSTLY",
])
def test_bad_urls_are_refused(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WAPIPE_CASSANDRA_CONTACT_POINTS", raising=False)
    with pytest.raises(ValueError):
        open_store(url)


def test_cassandra_without_contact_points_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WAPIPE_CASSANDRA_CONTACT_POINTS", raising=False)
    with pytest.raises(ValueError, match="WAPIPE_CASSANDRA_CONTACT_POINTS"):
        open_store("cassandra:///wapipe")
