"""The catalog's port: what a backend (SQLite FTS5 embedded, Cassandra in production) must do. Search itself
(`wapipe.catalog.search`) is backend-neutral: it asks a backend for lexical candidates and ranks them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol

from wapipe.catalog.model import CatalogVersion, Product

Progress = Callable[[int], None]  # called with the number of rows just written


class CatalogUnavailable(RuntimeError):
    """The backend cannot be reached or read; the caller answers without the catalog."""


class CatalogStore(Protocol):
    """Per-tenant product catalog. `tenant` is the tenant's phone_number_id. A tenant's rows belong to one
    version; `replace` writes a whole new version and switches to it in one step (readers see the old catalog or
    the new one, never a mix); `upsert` changes a few rows of the current version and bumps its number."""

    async def migrate(self) -> None: ...

    async def close(self) -> None: ...

    async def replace(self, tenant: str, products: Iterable[Product], *, source: str = "", checksum: str = "",
                      progress: Progress | None = None) -> CatalogVersion:
        """Make `products` the tenant's catalog (a new version); the old rows are deleted after the switch."""
        ...

    async def upsert(self, tenant: str, products: Sequence[Product]) -> CatalogVersion:
        """Insert or replace these rows (by id) in the current version; creates version 1 if there is none."""
        ...

    async def version(self, tenant: str) -> CatalogVersion | None:
        """The current version (one small read: readers call it to notice a new import)."""
        ...

    async def lexical(self, tenant: str, terms: Sequence[str], prefixes: Sequence[str],
                      limit: int) -> list[tuple[str, float]]:
        """Product groups with a row matching any of `terms` (exact index terms) or `prefixes`, best first, with
        their best row's score (higher is better, comparable only within one answer). No terms: the first
        `limit` groups."""
        ...

    async def vocabulary(self, tenant: str) -> dict[str, int]:
        """Every index term of the current version and the number of rows carrying it."""
        ...

    async def groups(self, tenant: str, groups: Sequence[str]) -> dict[str, list[Product]]:
        """The rows of these product groups (`item_group_id`, or the id of a row without variants), by group."""
        ...

    async def get(self, tenant: str, product_id: str) -> Product | None: ...

    async def put_vectors(self, tenant: str, model: str, vectors: Mapping[str, Sequence[float]]) -> None:
        """Store the embeddings of product groups beside the current version (replaced by the next import)."""
        ...

    async def vectors(self, tenant: str, model: str) -> dict[str, list[float]]:
        """The current version's group embeddings made by `model` ({} when none)."""
        ...
