"""`CatalogPort` over the shared catalog (`wapipe.catalog.Catalog`): the very search `wapipe catalog search` runs.

The tenant's catalog is keyed by its phone_number_id, in the conversation store's backend (`WAPIPE_STORE_URL`);
a new import is noticed on the next call. An unreachable or unmigrated backend raises `CatalogUnavailable`, which
the tool box turns into an error result the model reads.
"""

from __future__ import annotations

from typing import Any

from wapipe.catalog import Catalog, CatalogStore
from wapipe.catalog.embeddings import OpenAIEmbedder


class StoreCatalog:
    def __init__(self, store: CatalogStore, embedder: OpenAIEmbedder | None = None) -> None:
        self.store = store
        self.embedder = embedder
        self._catalog = Catalog(store, embedder)  # hybrid ranking when WAPIPE_CATALOG_EMBEDDINGS_MODEL is set

    async def search(self, tenant: str, query: str, limit: int) -> list[dict[str, Any]]:
        return [h.to_dict() for h in await self._catalog.search(tenant, query, limit=limit)]

    async def get_product(self, tenant: str, product_id: str) -> dict[str, Any] | None:
        hit = await self._catalog.get_product(tenant, product_id)
        return hit.to_dict() if hit is not None else None

    async def close(self) -> None:
        if self.embedder is not None:
            await self.embedder.close()
        await self.store.close()
