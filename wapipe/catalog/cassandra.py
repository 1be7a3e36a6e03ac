"""Cassandra adapter of the catalog (production), on the conversation store's cluster and keyspace.

Cassandra has no full-text search, so the rows are the truth and each reader keeps a `LexicalIndex` of its
tenants' current version in memory, rebuilt when the version row says the catalog changed (one single-row read
per search). Rows live under a generation: `replace` writes the new generation's rows (spread over
`BUCKETS` partitions per generation, and once more by group), then switches `catalog_versions` with one write,
then deletes the old generation's partitions. Readers load either generation whole, never a mix.
"""

from __future__ import annotations

import asyncio
import json
import zlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from itertools import islice
from typing import Any, cast

from cassandra.query import PreparedStatement

from wapipe.catalog import codec
from wapipe.catalog.memory import LexicalIndex
from wapipe.catalog.model import CatalogVersion, Product
from wapipe.catalog.port import CatalogUnavailable, Progress
from wapipe.store.cassandra import CassandraConfig, CassandraStore
from wapipe.store.port import StoreUnavailable

BUCKETS = 16
BATCH = 500
TABLES = (
    """CREATE TABLE IF NOT EXISTS {ks}.catalog_versions (
        tenant text PRIMARY KEY, generation bigint, version bigint, products int, groups_ int, in_stock int,
        imported_at text, source text, checksum text)""",
    """CREATE TABLE IF NOT EXISTS {ks}.catalog_products (
        tenant text, generation bigint, bucket int, id text, body text,
        PRIMARY KEY ((tenant, generation, bucket), id))""",
    """CREATE TABLE IF NOT EXISTS {ks}.catalog_groups (
        tenant text, generation bigint, grp text, id text, body text,
        PRIMARY KEY ((tenant, generation, grp), id))""",
    """CREATE TABLE IF NOT EXISTS {ks}.catalog_vectors (
        tenant text, generation bigint, model text, grp text, vector text,
        PRIMARY KEY ((tenant, generation), model, grp))""",
)
QUERIES = {
    "put_vector": "INSERT INTO {ks}.catalog_vectors (tenant, generation, model, grp, vector) VALUES (?, ?, ?, ?, ?)",
    "drop_vectors": "DELETE FROM {ks}.catalog_vectors WHERE tenant = ? AND generation = ?",
    "vectors": "SELECT grp, vector FROM {ks}.catalog_vectors WHERE tenant = ? AND generation = ? AND model = ?",
    "version": "SELECT generation, version, products, groups_, in_stock, imported_at, source, checksum "
               "FROM {ks}.catalog_versions WHERE tenant = ?",
    "set_version": "INSERT INTO {ks}.catalog_versions (tenant, generation, version, products, groups_, in_stock, "
                   "imported_at, source, checksum) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "put": "INSERT INTO {ks}.catalog_products (tenant, generation, bucket, id, body) VALUES (?, ?, ?, ?, ?)",
    "put_group": "INSERT INTO {ks}.catalog_groups (tenant, generation, grp, id, body) VALUES (?, ?, ?, ?, ?)",
    "bucket": "SELECT body FROM {ks}.catalog_products WHERE tenant = ? AND generation = ? AND bucket = ?",
    "get": "SELECT body FROM {ks}.catalog_products WHERE tenant = ? AND generation = ? AND bucket = ? AND id = ?",
    "group": "SELECT body FROM {ks}.catalog_groups WHERE tenant = ? AND generation = ? AND grp = ?",
    "drop_bucket": "DELETE FROM {ks}.catalog_products WHERE tenant = ? AND generation = ? AND bucket = ?",
    "drop_group": "DELETE FROM {ks}.catalog_groups WHERE tenant = ? AND generation = ? AND grp = ?",
    "drop_group_row": "DELETE FROM {ks}.catalog_groups WHERE tenant = ? AND generation = ? AND grp = ? AND id = ?",
}


def bucket(product_id: str) -> int:
    return zlib.crc32(product_id.encode()) % BUCKETS


class CassandraCatalog:
    """CatalogStore on Cassandra; shares the conversation store's connection code and keyspace."""

    def __init__(self, config: CassandraConfig) -> None:
        self.config = config
        self._conn = CassandraStore(config)
        self._prepared: dict[str, PreparedStatement] = {}
        self._index: dict[str, tuple[int, LexicalIndex]] = {}
        self._loading: dict[str, asyncio.Lock] = {}

    async def _q(self, name: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        try:
            session = await self._conn._connected()
            stmt = self._prepared.get(name)
            if stmt is None:
                cql = QUERIES[name].format(ks=self.config.keyspace)
                stmt = cast(PreparedStatement, await asyncio.to_thread(session.prepare, cql))
                stmt.is_idempotent = True
                self._prepared[name] = stmt
            return await CassandraStore._execute(session, stmt, params)
        except StoreUnavailable as exc:
            raise CatalogUnavailable(str(exc)) from exc
        except Exception as exc:  # the driver's errors have no common base: any failure is "unavailable"
            raise CatalogUnavailable(f"catalog query {name} failed: {exc}") from exc

    async def migrate(self) -> None:
        try:
            await self._conn.migrate()  # the keyspace (idempotent)
            session = await self._conn._connected()
        except StoreUnavailable as exc:
            raise CatalogUnavailable(str(exc)) from exc

        def apply() -> None:
            for cql in TABLES:
                session.execute(cql.format(ks=self.config.keyspace), timeout=max(60.0, self.config.request_timeout))

        await asyncio.to_thread(apply)

    async def close(self) -> None:
        self._prepared.clear()
        await self._conn.close()

    # -- writes --------------------------------------------------------------------------------------------------

    async def _put(self, tenant: str, generation: int, products: Sequence[Product]) -> None:
        writes = []
        for p in products:
            body = codec.dumps(p)
            writes.append(self._q("put", (tenant, generation, bucket(p.id), p.id, body)))
            writes.append(self._q("put_group", (tenant, generation, p.group, p.id, body)))
        await asyncio.gather(*writes)

    async def _drop(self, tenant: str, generation: int) -> None:
        groups = {p.group for p in await self._load(tenant, generation)}
        await asyncio.gather(*(self._q("drop_group", (tenant, generation, g)) for g in groups))
        await asyncio.gather(*(self._q("drop_bucket", (tenant, generation, b)) for b in range(BUCKETS)))
        await self._q("drop_vectors", (tenant, generation))

    async def _switch(self, tenant: str, generation: int, version: int, rows: Sequence[Product], source: str,
                      checksum: str) -> CatalogVersion:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        v = CatalogVersion(tenant, version, len(rows), len({p.group for p in rows}), sum(p.in_stock for p in rows),
                           now, source, checksum)
        await self._q("set_version", (tenant, generation, version, v.products, v.groups, v.in_stock, now, source,
                                      checksum))
        return v

    async def replace(self, tenant: str, products: Iterable[Product], *, source: str = "", checksum: str = "",
                      progress: Progress | None = None) -> CatalogVersion:
        current = await self._current(tenant)
        old_generation = current[0] if current else None
        # Time-derived: two importers never pick the same generation, and it grows like the version does.
        generation = int(datetime.now(UTC).timestamp() * 1_000_000)
        rows = iter(products)
        written: list[Product] = []
        try:
            while batch := list(islice(rows, BATCH)):
                await self._put(tenant, generation, batch)
                written.extend(batch)
                if progress:
                    progress(len(batch))
            version = (current[1].version if current else 0) + 1
            result = await self._switch(tenant, generation, version, written, source, checksum)
        except BaseException:
            await self._drop(tenant, generation)
            raise
        if old_generation is not None:
            await self._drop(tenant, old_generation)
        return result

    async def upsert(self, tenant: str, products: Sequence[Product]) -> CatalogVersion:
        current = await self._current(tenant)
        if current is None:
            return await self.replace(tenant, products)
        generation, v = current
        old = {p.id: p for p in await self._load(tenant, generation)}
        for p in products:
            before = old.get(p.id)
            if before is not None and before.group != p.group:
                await self._q("drop_group_row", (tenant, generation, before.group, p.id))
        await self._put(tenant, generation, products)
        rows = list({**old, **{p.id: p for p in products}}.values())
        return await self._switch(tenant, generation, v.version + 1, rows, v.source, v.checksum)

    # -- reads ---------------------------------------------------------------------------------------------------

    async def _current(self, tenant: str) -> tuple[int, CatalogVersion] | None:
        rows = await self._q("version", (tenant,))
        if not rows:
            return None
        generation, *rest = rows[0]
        return int(generation), CatalogVersion(tenant, *rest)

    async def _load(self, tenant: str, generation: int) -> list[Product]:
        pages = await asyncio.gather(*(self._q("bucket", (tenant, generation, b)) for b in range(BUCKETS)))
        return [codec.loads(body) for page in pages for (body,) in page]

    async def _lexical_index(self, tenant: str) -> LexicalIndex | None:
        current = await self._current(tenant)
        if current is None:
            return None
        generation, v = current
        cached = self._index.get(tenant)
        if cached is not None and cached[0] == v.version:
            return cached[1]
        lock = self._loading.setdefault(tenant, asyncio.Lock())
        async with lock:  # one load per version, however many searches arrive meanwhile
            cached = self._index.get(tenant)
            if cached is None or cached[0] != v.version:
                rows = await self._load(tenant, generation)
                cached = (v.version, await asyncio.to_thread(LexicalIndex, rows))
                self._index[tenant] = cached
        return cached[1]

    async def version(self, tenant: str) -> CatalogVersion | None:
        current = await self._current(tenant)
        return current[1] if current else None

    async def lexical(self, tenant: str, terms: Sequence[str], prefixes: Sequence[str],
                      limit: int) -> list[tuple[str, float]]:
        index = await self._lexical_index(tenant)
        return index.search(terms, prefixes, limit) if index else []

    async def vocabulary(self, tenant: str) -> dict[str, int]:
        index = await self._lexical_index(tenant)
        return dict(index.vocabulary) if index else {}

    async def groups(self, tenant: str, groups: Sequence[str]) -> dict[str, list[Product]]:
        current = await self._current(tenant)
        if current is None:
            return {}
        wanted = list(dict.fromkeys(groups))
        pages = await asyncio.gather(*(self._q("group", (tenant, current[0], g)) for g in wanted))
        return {g: [codec.loads(b) for (b,) in page] for g, page in zip(wanted, pages, strict=True) if page}

    async def get(self, tenant: str, product_id: str) -> Product | None:
        current = await self._current(tenant)
        if current is None:
            return None
        rows = await self._q("get", (tenant, current[0], bucket(product_id), product_id))
        return codec.loads(rows[0][0]) if rows else None

    async def put_vectors(self, tenant: str, model: str, vectors: Mapping[str, Sequence[float]]) -> None:
        current = await self._current(tenant)
        if current is None:
            return
        await asyncio.gather(*(self._q("put_vector", (tenant, current[0], model, g, json.dumps(list(v))))
                               for g, v in vectors.items()))

    async def vectors(self, tenant: str, model: str) -> dict[str, list[float]]:
        current = await self._current(tenant)
        if current is None:
            return {}
        return {g: json.loads(v) for g, v in await self._q("vectors", (tenant, current[0], model))}
