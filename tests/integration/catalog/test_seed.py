"""`wapipe up` imports each tenant's catalog feed from config/catalogs when the store does not hold that file yet."""

from __future__ import annotations

import shutil
from pathlib import Path

from wapipe.catalog import open_catalog
from wapipe_tools.local.catalogs import seed_catalogs

ROOT = Path(__file__).resolve().parents[3]


async def test_the_demo_feed_is_imported_once_and_again_only_when_it_changes(tmp_path: Path) -> None:
    tenants, catalogs = tmp_path / "tenants", tmp_path / "catalogs"
    shutil.copytree(ROOT / "config" / "tenants", tenants)
    catalogs.mkdir()
    demo = catalogs / "demo.csv"
    lines = (ROOT / "config" / "catalogs" / "demo.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    demo.write_text("".join(lines[:41]), encoding="utf-8")  # the header and 40 rows keep the test quick
    (catalogs / "nobody.csv").write_text(lines[0], encoding="utf-8")  # no tenant of that name: skipped
    url = f"sqlite:///{tmp_path}/wapipe.db"

    assert await seed_catalogs(url, tenants) == ["demo"]
    assert await seed_catalogs(url, tenants) == []  # same file, nothing to do
    demo.write_text("".join(lines[:61]), encoding="utf-8")
    assert await seed_catalogs(url, tenants) == ["demo"]

    store = open_catalog(url)
    try:
        version = await store.version("100000000000001")
        assert version is not None and (version.version, version.products, version.source) == (2, 60, "demo.csv")
    finally:
        await store.close()
