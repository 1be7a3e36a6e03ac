"""The catalog tools over the real catalog: the demo feed imported into SQLite (FTS5), searched through the tool
box exactly as the model's `search_products` / `get_product` calls are."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.ai.catalog import StoreCatalog
from services.ai.knowledge import to_ai
from services.ai.tools import ToolBox
from services.ai.toolspec import ToolCall
from wapipe.catalog import open_catalog
from wapipe.catalog.importer import import_feed
from wapipe.tenants import load_tenant

REPO = Path(__file__).resolve().parents[3]
DEMO = to_ai(load_tenant(REPO / "config" / "tenants" / "demo.yaml"))


@pytest.fixture
async def catalog(tmp_path: Path) -> AsyncIterator[StoreCatalog]:
    store = open_catalog(f"sqlite:///{tmp_path}/wapipe.db")
    await store.migrate()
    result = await import_feed(store, DEMO.tenant, REPO / "config" / "catalogs" / "demo.csv")
    assert not result.errors
    c = StoreCatalog(store)
    yield c
    await c.close()


def call(name: str, **args: object) -> ToolCall:
    return ToolCall("call_1", name, json.dumps(args))


async def test_search_products_finds_the_raincoat_in_size_m_with_its_price(catalog: StoreCatalog) -> None:
    res = await ToolBox(catalog, None).run(DEMO, call("search_products", query="chaqueta impermeable", size="M"), 5.0)
    assert res.ok and res.count >= 1
    first = json.loads(res.content)["results"][0]
    assert "impermeable" in first["title"].lower() and first["size"] == ["M"]
    assert first["price"].endswith(" COP") and all(s.startswith("M") for s in first["in_stock"])
    hit = (await catalog.search(DEMO.tenant, "chaqueta impermeable talla M", 1))[0]
    assert first["price"] == f"{hit['price']} COP"  # the catalog's own figure, as the model reads it


async def test_get_product_by_group_and_an_unknown_id(catalog: StoreCatalog) -> None:
    box = ToolBox(catalog, None)
    res = await box.run(DEMO, call("get_product", id="AM90"), 5.0)
    product = json.loads(res.content)["product"]
    assert res.ok and res.count == 1 and product["item_group_id"] == "AM90" and "Air Max 90" in product["title"]
    missing = await box.run(DEMO, call("get_product", id="NO-SUCH-ID"), 5.0)
    assert missing.ok and missing.count == 0 and json.loads(missing.content) == {"found": False}


async def test_results_fit_the_tenants_token_budget(catalog: StoreCatalog) -> None:
    res = await ToolBox(catalog, None).run(DEMO, call("search_products", query="zapatillas", limit=10), 5.0)
    assert len(res.content) <= DEMO.tools.result_tokens * 4
    doc = json.loads(res.content)  # still valid JSON: whole products dropped from the end
    assert res.count == len(doc["results"]) >= 1


async def test_an_unmigrated_catalog_is_an_error_result(tmp_path: Path) -> None:
    empty = StoreCatalog(open_catalog(f"sqlite:///{tmp_path}/none.db"))
    try:
        res = await ToolBox(empty, None).run(DEMO, call("search_products", query="tenis"), 5.0)
    finally:
        await empty.close()
    assert res.outcome == "error" and res.count == 0
