"""`open_catalog(store_url)`: the catalog lives in the conversation store's backend (`WAPIPE_STORE_URL`)."""

from __future__ import annotations

from typing import Any

from wapipe.catalog.port import CatalogStore


def open_catalog(url: str, **opts: Any) -> CatalogStore:
    """Build (not connect) the catalog backend of a store URL; call `await catalog.migrate()` first."""
    scheme, sep, rest = url.partition("://")
    if scheme == "sqlite" and sep:
        from wapipe.catalog.sqlite import SQLiteCatalog

        path = rest[1:] if rest.startswith("/") else rest
        if not path:
            raise ValueError(f"sqlite store URL has no path: {url!r}")
        return SQLiteCatalog(path, **opts)
    if scheme == "cassandra" and sep:
        from wapipe.catalog.cassandra import CassandraCatalog
        from wapipe.store.url import _cassandra_config  # the store's own URL rules, shared

        return CassandraCatalog(_cassandra_config(rest, opts))
    raise ValueError(f"unknown store URL {url!r} (expected sqlite:// or cassandra://)")
