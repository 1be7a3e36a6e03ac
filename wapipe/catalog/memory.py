"""An in-memory lexical index (BM25 over the same four weighted fields as the SQLite FTS5 table) and a catalog
held wholly in memory. The index serves backends without full-text search (Cassandra: each reader builds it
from the current version's rows and rebuilds it when the version changes); `MemoryCatalog` is the reference
backend the contract tests hold the others to, and the unit tests' fake."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from wapipe.catalog import codec
from wapipe.catalog.model import CatalogVersion, Product
from wapipe.catalog.port import Progress

WEIGHTS = (10.0, 4.0, 2.0, 1.0)
K1, B = 1.2, 0.75


class LexicalIndex:
    """BM25F-lite: per-field BM25, weighted and summed. Immutable once built."""

    def __init__(self, products: Iterable[Product]) -> None:
        self.products: list[Product] = list(products)
        self._postings: dict[str, list[tuple[int, int, int]]] = defaultdict(list)  # term -> (row, field, tf)
        self._lengths: list[tuple[int, ...]] = []
        for row, p in enumerate(self.products):
            fields = [f.split() for f in codec.index_fields(p)]
            self._lengths.append(tuple(len(f) for f in fields))
            for field, tokens in enumerate(fields):
                for term, tf in Counter(tokens).items():
                    self._postings[term].append((row, field, tf))
        n = max(1, len(self.products))
        self._avg = [sum(ln[f] for ln in self._lengths) / n or 1.0 for f in range(4)]
        self.vocabulary = {t: len({r for r, _, _ in rows}) for t, rows in self._postings.items()}

    def search(self, terms: Sequence[str], prefixes: Sequence[str], limit: int) -> list[tuple[str, float]]:
        """(group, best row's score), best first."""
        if not terms and not prefixes:
            return [(g, 0.0) for g in list(dict.fromkeys(p.group for p in self.products))[:limit]]
        wanted = list(dict.fromkeys(terms))
        for prefix in prefixes:
            wanted.extend(t for t in self._postings if t.startswith(prefix) and t not in wanted)
        n = len(self.products)
        scores: dict[int, float] = defaultdict(float)
        for term in wanted:
            rows = self._postings.get(term, [])
            df = self.vocabulary.get(term, 0)
            if not df:
                continue
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            for row, field, tf in rows:
                norm = tf * (K1 + 1) / (tf + K1 * (1 - B + B * self._lengths[row][field] / self._avg[field]))
                scores[row] += WEIGHTS[field] * idf * norm
        groups: dict[str, float] = {}
        for row, score in scores.items():
            group = self.products[row].group
            if score > groups.get(group, 0.0):
                groups[group] = score
        return sorted(groups.items(), key=lambda kv: -kv[1])[:limit]


class MemoryCatalog:
    """CatalogStore in one process's memory."""

    def __init__(self) -> None:
        self._rows: dict[str, dict[str, Product]] = {}
        self._versions: dict[str, CatalogVersion] = {}
        self._index: dict[str, tuple[int, LexicalIndex]] = {}
        self._vectors: dict[str, dict[str, dict[str, list[float]]]] = {}  # tenant -> model -> group -> vector

    async def migrate(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def replace(self, tenant: str, products: Iterable[Product], *, source: str = "", checksum: str = "",
                      progress: Progress | None = None) -> CatalogVersion:
        rows = {p.id: p for p in products}
        self._vectors.pop(tenant, None)
        if progress:
            progress(len(rows))
        return self._commit(tenant, rows, source, checksum)

    async def upsert(self, tenant: str, products: Sequence[Product]) -> CatalogVersion:
        rows = {**self._rows.get(tenant, {}), **{p.id: p for p in products}}
        current = self._versions.get(tenant)
        return self._commit(tenant, rows, current.source if current else "", current.checksum if current else "")

    def _commit(self, tenant: str, rows: dict[str, Product], source: str, checksum: str) -> CatalogVersion:
        current = self._versions.get(tenant)
        version = CatalogVersion(tenant, (current.version if current else 0) + 1, len(rows),
                                 len({p.group for p in rows.values()}), sum(p.in_stock for p in rows.values()),
                                 datetime.now(UTC).isoformat(timespec="seconds"), source, checksum)
        self._rows[tenant], self._versions[tenant] = rows, version
        return replace(version)

    async def version(self, tenant: str) -> CatalogVersion | None:
        return self._versions.get(tenant)

    def _current(self, tenant: str) -> LexicalIndex:
        version = self._versions[tenant].version
        cached = self._index.get(tenant)
        if cached is None or cached[0] != version:
            cached = (version, LexicalIndex(self._rows[tenant].values()))
            self._index[tenant] = cached
        return cached[1]

    async def lexical(self, tenant: str, terms: Sequence[str], prefixes: Sequence[str],
                      limit: int) -> list[tuple[str, float]]:
        return self._current(tenant).search(terms, prefixes, limit) if tenant in self._versions else []

    async def vocabulary(self, tenant: str) -> dict[str, int]:
        return dict(self._current(tenant).vocabulary) if tenant in self._versions else {}

    async def groups(self, tenant: str, groups: Sequence[str]) -> dict[str, list[Product]]:
        out: dict[str, list[Product]] = {}
        wanted = set(groups)
        for p in self._rows.get(tenant, {}).values():
            if p.group in wanted:
                out.setdefault(p.group, []).append(p)
        return out

    async def get(self, tenant: str, product_id: str) -> Product | None:
        return self._rows.get(tenant, {}).get(product_id)

    async def put_vectors(self, tenant: str, model: str, vectors: Mapping[str, Sequence[float]]) -> None:
        if tenant in self._versions:
            self._vectors.setdefault(tenant, {})[model] = {g: list(v) for g, v in vectors.items()}

    async def vectors(self, tenant: str, model: str) -> dict[str, list[float]]:
        return dict(self._vectors.get(tenant, {}).get(model, {}))
