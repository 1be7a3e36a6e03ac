"""Feed import: validate the whole file, then replace the tenant's catalog as a new version (or upsert a few
rows over the current one). A file with any bad row writes nothing: the old catalog stays."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from wapipe.catalog import embeddings, feed
from wapipe.catalog.feed import RowError
from wapipe.catalog.model import CatalogVersion, Product
from wapipe.catalog.port import CatalogStore, Progress

log = logging.getLogger(__name__)


@dataclass
class ImportResult:
    rows: int
    version: CatalogVersion | None = None
    errors: list[RowError] = field(default_factory=list)


async def import_feed(store: CatalogStore, tenant: str, path: Path, *,
                      on_total: Callable[[int], None] | None = None,
                      progress: Progress | None = None,
                      embedder: embeddings.Embedder | None = None) -> ImportResult:
    """Validate every row (one pass), then stream the rows into a new version (a second pass); with an
    embedder, embed each product group (a third pass) and store the vectors beside the new version."""
    good, errors = feed.validate(path)
    if errors:
        return ImportResult(good, errors=errors)
    if on_total:
        on_total(good)
    version = await store.replace(tenant, feed.products(path), source=path.name, checksum=feed.checksum(path),
                                  progress=progress)
    if embedder is not None:
        try:
            vectors = await embeddings.embed_groups(embedder, embeddings.group_texts(feed.products(path)))
        except Exception as exc:  # noqa: BLE001  (the catalog is imported; search stays lexical)
            log.warning("catalog embeddings failed at import, search stays lexical: %s", type(exc).__name__)
        else:
            await store.put_vectors(tenant, embedder.model, vectors)
    return ImportResult(good, version)


async def upsert_feed(store: CatalogStore, tenant: str, path: Path) -> ImportResult:
    """Rows laid over the current ones by id: a row may carry only `id` and the columns that change (stock,
    price, availability); a new id must be a complete row."""
    products: dict[str, Product] = {}
    errors: list[RowError] = []
    for line, raw in feed.rows(path, required=("id",)):
        pid = raw.get("id", "").strip()
        existing = await store.get(tenant, pid) if pid else None
        merged = {**feed.feed_fields(existing), **raw} if existing and "\x00" not in raw else raw
        result = feed.product(path.name, line, merged)
        if isinstance(result, RowError):
            errors.append(result)
        else:
            products[result.id] = result
    if errors:
        return ImportResult(len(products), errors=errors)
    version = await store.upsert(tenant, list(products.values()))
    return ImportResult(len(products), version)
