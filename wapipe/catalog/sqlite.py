"""SQLite adapter of the catalog (the embedded default), in the conversation store's file.

Rows are JSON documents in `catalog_products`; an FTS5 table holds their analysed text (`normalize.analysed`:
the Spanish folding happens in Python, so FTS5's own unicode61 tokenizer only splits on spaces). A replacement
writes the new version's rows in batches under a new generation number that no reader asks for, switches
`catalog_versions` in one short transaction, then deletes the old generation: readers see either catalog whole,
and the conversation store's writers are never locked out for the length of an import.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import TypeVar

from wapipe.catalog import codec
from wapipe.catalog.model import CatalogVersion, Product
from wapipe.catalog.port import CatalogUnavailable, Progress

T = TypeVar("T")
BATCH = 2000
SCHEMA = (
    """CREATE TABLE IF NOT EXISTS catalog_versions (
        tenant TEXT PRIMARY KEY, generation INTEGER NOT NULL, version INTEGER NOT NULL, products INTEGER NOT NULL,
        groups_ INTEGER NOT NULL, in_stock INTEGER NOT NULL, imported_at TEXT NOT NULL, source TEXT NOT NULL,
        checksum TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS catalog_products (
        rid INTEGER PRIMARY KEY, tenant TEXT NOT NULL, generation INTEGER NOT NULL, id TEXT NOT NULL,
        grp TEXT NOT NULL, in_stock INTEGER NOT NULL, body TEXT NOT NULL, UNIQUE (tenant, generation, id))""",
    "CREATE INDEX IF NOT EXISTS catalog_products_by_group ON catalog_products (tenant, generation, grp)",
    # `scope` holds one token per row, tenant and generation: the match itself keeps to one catalog, so FTS5
    # ranks and cuts to the top rows (ORDER BY rank LIMIT) before anything is joined.
    """CREATE VIRTUAL TABLE IF NOT EXISTS catalog_text USING fts5(scope, title, kind, attrs, body,
        tokenize = 'unicode61 remove_diacritics 2')""",
    """CREATE TABLE IF NOT EXISTS catalog_terms (
        tenant TEXT NOT NULL, generation INTEGER NOT NULL, term TEXT NOT NULL, rows INTEGER NOT NULL,
        PRIMARY KEY (tenant, generation, term))""",
    """CREATE TABLE IF NOT EXISTS catalog_vectors (
        tenant TEXT NOT NULL, generation INTEGER NOT NULL, model TEXT NOT NULL, grp TEXT NOT NULL,
        vector TEXT NOT NULL, PRIMARY KEY (tenant, generation, model, grp))""",
)
RANK = "bm25(0.0, 10.0, 4.0, 2.0, 1.0)"
TOP_ROWS = 2000  # rows ranked before grouping: at most 12 variants per group, 20 groups wanted


class SQLiteCatalog:
    """CatalogStore on one SQLite file (WAL; the conversation store's own file by default)."""

    def __init__(self, path: str | Path, *, busy_timeout: float = 10.0) -> None:
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="wapipe-catalog-writer")
        self._readers = ThreadPoolExecutor(2, thread_name_prefix="wapipe-catalog-reader")
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None,
                                       check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
            except (sqlite3.Error, OSError) as exc:
                raise CatalogUnavailable(f"cannot open the catalog at {self.path}: {exc}") from exc
            self._local.conn = conn
            with self._lock:
                self._conns.append(conn)
        return conn

    def _tx(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            out = fn(conn)
            conn.execute("COMMIT")
            return out
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    async def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await self._run(self._writer, lambda: self._tx(fn))

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await self._run(self._readers, lambda: fn(self._conn()))

    @staticmethod
    async def _run(pool: ThreadPoolExecutor, fn: Callable[[], T]) -> T:
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, fn)
        except sqlite3.Error as exc:
            raise CatalogUnavailable(f"catalog query failed: {exc}") from exc

    async def migrate(self) -> None:
        def apply(conn: sqlite3.Connection) -> None:
            for sql in SCHEMA:
                conn.execute(sql)
            conn.execute("INSERT INTO catalog_text (catalog_text, rank) VALUES ('rank', ?)", (RANK,))

        await self._write(apply)

    async def close(self) -> None:
        self._writer.shutdown(wait=True)
        self._readers.shutdown(wait=True)
        with self._lock:
            for conn in self._conns:
                conn.close()
            self._conns.clear()

    # -- writes --------------------------------------------------------------------------------------------------

    async def replace(self, tenant: str, products: Iterable[Product], *, source: str = "", checksum: str = "",
                      progress: Progress | None = None) -> CatalogVersion:
        current = await self.version(tenant)
        generation = await self._write(lambda c: _next_generation(c, tenant))
        terms: Counter[str] = Counter()
        rows = iter(products)
        try:
            while batch := list(islice(rows, BATCH)):
                terms.update(codec.vocabulary(batch))
                await self._write(lambda c, b=batch: _insert(c, tenant, generation, b))  # type: ignore[misc]
                if progress:
                    progress(len(batch))
            now = datetime.now(UTC).isoformat(timespec="seconds")
            version = (current.version if current else 0) + 1
            result = await self._write(lambda c: _switch(c, tenant, generation, version, terms, now, source,
                                                         checksum))
        except BaseException:
            await self._write(lambda c: _drop_generation(c, tenant, generation))
            raise
        if current is not None:
            await self._write(lambda c: _drop_old(c, tenant, generation))
        return result

    async def upsert(self, tenant: str, products: Sequence[Product]) -> CatalogVersion:
        def apply(conn: sqlite3.Connection) -> CatalogVersion:
            row = conn.execute("SELECT generation, version, source, checksum FROM catalog_versions "
                               "WHERE tenant = ?", (tenant,)).fetchone()
            generation, version, source, checksum = row or (_next_generation(conn, tenant), 0, "", "")
            ids = [p.id for p in products]
            old = [codec.loads(b) for (b,) in conn.execute(
                f"SELECT body FROM catalog_products WHERE tenant = ? AND generation = ? AND id IN "
                f"({','.join('?' * len(ids))})", (tenant, generation, *ids))]
            _delete_rows(conn, tenant, generation, ids)
            _insert(conn, tenant, generation, products)
            terms = Counter(dict(conn.execute("SELECT term, rows FROM catalog_terms WHERE tenant = ? AND "
                                              "generation = ?", (tenant, generation)).fetchall()))
            terms.subtract(codec.vocabulary(old))
            terms.update(codec.vocabulary(products))
            now = datetime.now(UTC).isoformat(timespec="seconds")
            return _switch(conn, tenant, generation, version + 1, +terms, now, source, checksum)

        return await self._write(apply)

    # -- reads ---------------------------------------------------------------------------------------------------

    async def version(self, tenant: str) -> CatalogVersion | None:
        def q(conn: sqlite3.Connection) -> CatalogVersion | None:
            row = conn.execute("SELECT version, products, groups_, in_stock, imported_at, source, checksum "
                               "FROM catalog_versions WHERE tenant = ?", (tenant,)).fetchone()
            return CatalogVersion(tenant, *row) if row else None

        return await self._read(q)

    async def lexical(self, tenant: str, terms: Sequence[str], prefixes: Sequence[str],
                      limit: int) -> list[tuple[str, float]]:
        clauses = [f'"{t}"' for t in terms if t.isalnum()] + [f'"{p}"*' for p in prefixes if p.isalnum()]

        def q(conn: sqlite3.Connection) -> list[tuple[str, float]]:
            current = conn.execute("SELECT generation FROM catalog_versions WHERE tenant = ?", (tenant,)).fetchone()
            if current is None:
                return []
            if not clauses:
                rows = conn.execute("SELECT grp, 0.0 FROM catalog_products WHERE tenant = ? AND generation = ? "
                                    "GROUP BY grp ORDER BY MIN(rid) LIMIT ?", (tenant, current[0], limit))
            else:
                match = f'scope:"{_scope(tenant, current[0])}" AND ({" OR ".join(clauses)})'
                # rank (bm25) is only allowed in a plain full-text query: rank and cut there, group outside.
                rows = conn.execute(
                    "WITH m AS MATERIALIZED (SELECT rowid AS rid, -rank AS score FROM catalog_text "
                    "WHERE catalog_text MATCH ? ORDER BY rank LIMIT ?) SELECT p.grp, MAX(m.score) AS best FROM m "
                    "JOIN catalog_products p ON p.rid = m.rid WHERE p.tenant = ? AND p.generation = ? "
                    "GROUP BY p.grp ORDER BY best DESC LIMIT ?", (match, TOP_ROWS, tenant, current[0], limit))
            return [(grp, float(score)) for grp, score in rows.fetchall()]

        return await self._read(q)

    async def vocabulary(self, tenant: str) -> dict[str, int]:
        def q(conn: sqlite3.Connection) -> dict[str, int]:
            return dict(conn.execute(
                "SELECT term, rows FROM catalog_terms WHERE tenant = ? AND generation = (SELECT generation FROM "
                "catalog_versions WHERE tenant = ?)", (tenant, tenant)).fetchall())

        return await self._read(q)

    async def groups(self, tenant: str, groups: Sequence[str]) -> dict[str, list[Product]]:
        wanted = list(dict.fromkeys(groups))

        def q(conn: sqlite3.Connection) -> dict[str, list[Product]]:
            out: dict[str, list[Product]] = {g: [] for g in wanted}
            for start in range(0, len(wanted), 500):
                chunk = wanted[start:start + 500]
                for grp, body in conn.execute(
                        f"SELECT grp, body FROM catalog_products WHERE tenant = ? AND generation = (SELECT "
                        f"generation FROM catalog_versions WHERE tenant = ?) AND grp IN ({','.join('?' * len(chunk))})"
                        f" ORDER BY rid", (tenant, tenant, *chunk)):
                    out[grp].append(codec.loads(body))
            return {g: rows for g, rows in out.items() if rows}

        return await self._read(q)

    async def get(self, tenant: str, product_id: str) -> Product | None:
        def q(conn: sqlite3.Connection) -> Product | None:
            row = conn.execute(
                "SELECT body FROM catalog_products WHERE tenant = ? AND id = ? AND generation = (SELECT "
                "generation FROM catalog_versions WHERE tenant = ?)", (tenant, product_id, tenant)).fetchone()
            return codec.loads(row[0]) if row else None

        return await self._read(q)


    async def put_vectors(self, tenant: str, model: str, vectors: Mapping[str, Sequence[float]]) -> None:
        def apply(conn: sqlite3.Connection) -> None:
            row = conn.execute("SELECT generation FROM catalog_versions WHERE tenant = ?", (tenant,)).fetchone()
            if row is None:
                return
            conn.execute("DELETE FROM catalog_vectors WHERE tenant = ? AND generation = ? AND model = ?",
                         (tenant, row[0], model))
            conn.executemany("INSERT INTO catalog_vectors (tenant, generation, model, grp, vector) VALUES "
                             "(?, ?, ?, ?, ?)", [(tenant, row[0], model, g, json.dumps(list(v)))
                                                 for g, v in vectors.items()])

        await self._write(apply)

    async def vectors(self, tenant: str, model: str) -> dict[str, list[float]]:
        def q(conn: sqlite3.Connection) -> dict[str, list[float]]:
            return {g: json.loads(v) for g, v in conn.execute(
                "SELECT grp, vector FROM catalog_vectors WHERE tenant = ? AND model = ? AND generation = (SELECT "
                "generation FROM catalog_versions WHERE tenant = ?)", (tenant, model, tenant))}

        return await self._read(q)


def _scope(tenant: str, generation: int) -> str:
    """One alphanumeric token for a tenant's generation (FTS5's tokenizer keeps it whole)."""
    return f"s{hashlib.sha1(tenant.encode()).hexdigest()[:16]}g{generation}"


def _next_generation(conn: sqlite3.Connection, tenant: str) -> int:
    row = conn.execute("SELECT MAX(generation) FROM catalog_products WHERE tenant = ?", (tenant,)).fetchone()
    current = conn.execute("SELECT generation FROM catalog_versions WHERE tenant = ?", (tenant,)).fetchone()
    return max(row[0] or 0, current[0] if current else 0) + 1


def _insert(conn: sqlite3.Connection, tenant: str, generation: int, products: Iterable[Product]) -> None:
    for p in products:
        cur = conn.execute("INSERT INTO catalog_products (tenant, generation, id, grp, in_stock, body) "
                           "VALUES (?, ?, ?, ?, ?, ?)", (tenant, generation, p.id, p.group, int(p.in_stock),
                                                         codec.dumps(p)))
        conn.execute("INSERT INTO catalog_text (rowid, scope, title, kind, attrs, body) VALUES (?, ?, ?, ?, ?, ?)",
                     (cur.lastrowid, _scope(tenant, generation), *codec.index_fields(p)))


def _delete_rows(conn: sqlite3.Connection, tenant: str, generation: int, ids: Sequence[str]) -> None:
    for pid in ids:
        row = conn.execute("SELECT rid FROM catalog_products WHERE tenant = ? AND generation = ? AND id = ?",
                           (tenant, generation, pid)).fetchone()
        if row:
            conn.execute("DELETE FROM catalog_text WHERE rowid = ?", row)
            conn.execute("DELETE FROM catalog_products WHERE rid = ?", row)


def _switch(conn: sqlite3.Connection, tenant: str, generation: int, version: int, terms: Counter[str], now: str,
            source: str, checksum: str) -> CatalogVersion:
    products, groups, in_stock = conn.execute(
        "SELECT COUNT(*), COUNT(DISTINCT grp), COALESCE(SUM(in_stock), 0) FROM catalog_products "
        "WHERE tenant = ? AND generation = ?", (tenant, generation)).fetchone()
    conn.execute("DELETE FROM catalog_terms WHERE tenant = ? AND generation = ?", (tenant, generation))
    conn.executemany("INSERT INTO catalog_terms (tenant, generation, term, rows) VALUES (?, ?, ?, ?)",
                     [(tenant, generation, t, n) for t, n in terms.items() if n > 0])
    conn.execute("INSERT INTO catalog_versions (tenant, generation, version, products, groups_, in_stock, "
                 "imported_at, source, checksum) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant) DO "
                 "UPDATE SET generation = excluded.generation, version = excluded.version, products = "
                 "excluded.products, groups_ = excluded.groups_, in_stock = excluded.in_stock, imported_at = "
                 "excluded.imported_at, source = excluded.source, checksum = excluded.checksum",
                 (tenant, generation, version, products, groups, in_stock, now, source, checksum))
    return CatalogVersion(tenant, version, products, groups, in_stock, now, source, checksum)


def _drop_generation(conn: sqlite3.Connection, tenant: str, generation: int) -> None:
    conn.execute("DELETE FROM catalog_text WHERE rowid IN (SELECT rid FROM catalog_products WHERE tenant = ? AND "
                 "generation = ?)", (tenant, generation))
    conn.execute("DELETE FROM catalog_products WHERE tenant = ? AND generation = ?", (tenant, generation))
    conn.execute("DELETE FROM catalog_terms WHERE tenant = ? AND generation = ?", (tenant, generation))
    conn.execute("DELETE FROM catalog_vectors WHERE tenant = ? AND generation = ?", (tenant, generation))


def _drop_old(conn: sqlite3.Connection, tenant: str, keep: int) -> None:
    for (generation,) in conn.execute("SELECT DISTINCT generation FROM catalog_products WHERE tenant = ? AND "
                                      "generation != ?", (tenant, keep)).fetchall():
        _drop_generation(conn, tenant, generation)
    conn.execute("DELETE FROM catalog_terms WHERE tenant = ? AND generation != ?", (tenant, keep))
    conn.execute("DELETE FROM catalog_vectors WHERE tenant = ? AND generation != ?", (tenant, keep))
