"""The local stack's demo data: each tenant's catalog feed under `config/catalogs/<tenant name>.csv` is imported
into the stack's store when the store does not hold that very file yet (same checksum: nothing to do)."""

from __future__ import annotations

import logging
from pathlib import Path

from wapipe.catalog import open_catalog
from wapipe.catalog.feed import FEED_SUFFIXES, checksum
from wapipe.catalog.importer import import_feed
from wapipe.tenants import TenantRegistry

log = logging.getLogger(__name__)


async def seed_catalogs(store_url: str, tenants_dir: Path, catalogs_dir: Path | None = None) -> list[str]:
    """Import the feeds that changed; returns the names of the tenants whose catalog was (re)imported."""
    folder = catalogs_dir or tenants_dir.parent / "catalogs"
    if not folder.is_dir():
        return []
    tenants = {t.name: t for t in TenantRegistry(tenants_dir, check_interval_s=3600).all()}
    store = open_catalog(store_url)
    seeded: list[str] = []
    try:
        await store.migrate()
        for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in FEED_SUFFIXES):
            tenant = tenants.get(path.stem)
            if tenant is None:
                continue
            current = await store.version(tenant.phone_number_id)
            if current is not None and current.checksum == checksum(path):
                continue
            result = await import_feed(store, tenant.phone_number_id, path)
            if result.errors:
                log.error("demo catalog %s refused: %d bad rows, first: %s", path.name, len(result.errors),
                          result.errors[0])
                continue
            seeded.append(tenant.name)
    finally:
        await store.close()
    return seeded
