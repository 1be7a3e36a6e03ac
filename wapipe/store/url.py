"""`open_store(url)`: the one way services get a ConversationStore from `WAPIPE_STORE_URL`.

- `sqlite:///relative/path.db` (relative to the working directory) or `sqlite:////absolute/path.db`;
  the directory is created on first use.
- `cassandra://[user:pass@]host1,host2[:port]/keyspace?consistency=LOCAL_QUORUM&dc=dc1&rf=3
  &protocol_version=5&connect_timeout=5&request_timeout=10&buckets=4`; with no hosts in the URL
  (`cassandra:///wapipe`) the contact points come from `WAPIPE_CASSANDRA_CONTACT_POINTS` (comma separated,
  `host` or `host:port`) and, without a keyspace, the keyspace from `WAPIPE_CASSANDRA_KEYSPACE` (else `wapipe`).
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, unquote

from wapipe.store.port import RETENTION, Store

CONTACT_POINTS_ENV = "WAPIPE_CASSANDRA_CONTACT_POINTS"
KEYSPACE_ENV = "WAPIPE_CASSANDRA_KEYSPACE"


def parse_contact_points(raw: str) -> tuple[str | tuple[str, int], ...]:
    """`host` or `host:port` items, comma separated; a bare host uses the configured port."""
    points: list[str | tuple[str, int]] = []
    for item in (p.strip() for p in raw.split(",")):
        if not item:
            continue
        host, sep, port = item.rpartition(":")
        points.append((host, int(port)) if sep and port.isdigit() and host else item)
    return tuple(points)


def open_store(url: str, *, retention: timedelta = RETENTION, **opts: Any) -> Store:
    """Build (not connect) the store `url` names; call `await store.migrate()` (Cassandra: once per deploy).

    `opts` go to the adapter: SQLite `purge_interval`, `readers`, `busy_timeout`; Cassandra any `CassandraConfig`
    field (`contact_points`, `local_dc`, `consistency`, ...) which wins over the URL.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"store URL needs a scheme (sqlite:// or cassandra://): {url!r}")
    if scheme == "sqlite":
        from wapipe.store.sqlite import SQLiteStore

        # sqlite:///rel/path -> "rel/path"; sqlite:////abs/path -> "/abs/path"
        path = rest[1:] if rest.startswith("/") else rest
        if not path:
            raise ValueError(f"sqlite store URL has no path: {url!r}")
        return SQLiteStore(path, retention=retention, **opts)
    if scheme == "cassandra":
        from wapipe.store.cassandra import CassandraStore

        return CassandraStore(_cassandra_config(rest, opts), retention=retention)
    raise ValueError(f"unknown store scheme {scheme!r} (expected sqlite or cassandra)")


def _cassandra_config(rest: str, opts: dict[str, Any]) -> Any:
    from wapipe.store.cassandra import CassandraConfig

    location, _, query = rest.partition("?")
    netloc, _, keyspace = location.partition("/")
    creds, at, hosts = netloc.rpartition("@")
    q = {k: v[-1] for k, v in parse_qs(query).items()}
    fields: dict[str, Any] = {}
    if at:
        user, _, password = creds.partition(":")
        fields["username"], fields["password"] = unquote(user), unquote(password)
    port = int(q.get("port", 9042))
    points = parse_contact_points(hosts or os.environ.get(CONTACT_POINTS_ENV, ""))
    keyspace = keyspace.strip("/") or os.environ.get(KEYSPACE_ENV, "")
    if keyspace:
        fields["keyspace"] = keyspace
    dc = q.get("dc") or q.get("local_dc")
    conversions = {"consistency": str, "protocol_version": int, "connect_timeout": float,
                   "request_timeout": float, "buckets": int, "rf": int}
    renamed = {"buckets": "trace_buckets", "rf": "replication_factor"}
    for key, conv in conversions.items():
        if key in q:
            fields[renamed.get(key, key)] = conv(q[key])
    if dc:
        fields["local_dc"] = dc
    elif "rf" not in q:
        fields["replication_factor"] = 1  # SimpleStrategy without a DC: a dev/test cluster
    fields.update({"contact_points": points, "port": port})
    fields.update(opts)
    if not fields["contact_points"]:
        raise ValueError(f"no Cassandra contact points: put hosts in the URL or set {CONTACT_POINTS_ENV}")
    fields["contact_points"] = tuple(fields["contact_points"])
    return CassandraConfig(**fields)
