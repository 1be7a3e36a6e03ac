"""Per-tenant product catalog: imported from a Meta Commerce feed, stored in the conversation store's backend,
searched in Spanish.

    store = open_catalog(settings.store_url)      # SQLite FTS5 embedded, or Cassandra
    await store.migrate()
    catalog = Catalog(store)
    hits = await catalog.search("100000000000001", "¿tienen tenis blancos en 40?", limit=5)
    [h.to_dict() for h in hits]                   # id, item_group_id, title, price, availability, size, color, link
    product = await catalog.get_product("100000000000001", "AM90-BLA-40")
"""

from wapipe.catalog.model import CatalogVersion, Hit, Money, Product, Variant
from wapipe.catalog.port import CatalogStore, CatalogUnavailable
from wapipe.catalog.search import Catalog
from wapipe.catalog.url import open_catalog

__all__ = ["Catalog", "CatalogStore", "CatalogUnavailable", "CatalogVersion", "Hit", "Money", "Product",
           "Variant", "open_catalog"]
