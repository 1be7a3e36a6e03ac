"""Search quality on the demo catalog: the labelled questions (tests/data/labelled/catalog_*.yaml) must keep
recall@3 and MRR above a floor, on SQLite's FTS5 ranking and on the in-memory BM25 index Cassandra readers use.
The figures are printed; docs/benchmarks.md records them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bench.catalog.quality import DEMO_FEED, DEMO_TENANT, HOLDOUT, QUESTIONS, evaluate, load
from wapipe.catalog import Catalog, CatalogStore, open_catalog
from wapipe.catalog.importer import import_feed
from wapipe.catalog.memory import MemoryCatalog

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=["sqlite", "memory"])
async def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Catalog]:
    store: CatalogStore = MemoryCatalog() if request.param == "memory" else open_catalog(
        f"sqlite:///{tmp_path_factory.mktemp('catalog') / 'demo.db'}")
    await store.migrate()
    result = await import_feed(store, DEMO_TENANT, DEMO_FEED)
    assert result.errors == [] and result.version is not None and result.version.groups >= 150
    try:
        yield Catalog(store)
    finally:
        await store.close()


@pytest.mark.parametrize(("path", "recall_floor", "mrr_floor"), [(QUESTIONS, 0.92, 0.88), (HOLDOUT, 0.85, 0.8)])
async def test_labelled_questions_find_their_products(demo: Catalog, path: Path, recall_floor: float,
                                                      mrr_floor: float) -> None:
    questions = load(path)
    assert len(questions) >= (60 if path == QUESTIONS else 20)
    quality = await evaluate(demo, DEMO_TENANT, questions)
    print(f"{path.name}: {quality.questions} questions, recall@3 {quality.recall_at_3:.3f}, "
          f"MRR {quality.mrr:.3f}, misses {quality.misses}")
    assert quality.recall_at_3 >= recall_floor, quality.misses
    assert quality.mrr >= mrr_floor, quality.misses


async def test_the_issues_questions_get_the_product_in_the_size_asked(demo: Catalog) -> None:
    [first, *_] = await demo.search(DEMO_TENANT, "¿tienen los Air Max 90 blancos en 40?", limit=3)
    assert (first.item_group_id, first.id, first.size, first.color) == ("AM90", "AM90-BLA-40", ["40"], ["Blanco"])
    assert first.price == 649900 and first.currency == "COP" and first.link.startswith("https://")
    moto = await demo.search(DEMO_TENANT, "¿tienen la chaqueta impermeable en talla M y sirve para moto?", limit=3)
    assert {"CHIMP", "RPIMP"} <= {h.item_group_id for h in moto[:2]}
    assert all(h.size == ["M"] for h in moto[:2])


async def test_a_budget_and_a_colour_shape_the_hits(demo: Catalog) -> None:
    hits = await demo.search(DEMO_TENANT, "tenis blancos de menos de 300 mil", limit=10)
    assert hits and all(h.price <= 300000 or (h.sale_price or h.price) <= 300000 for h in hits)
    white = ["Blanco" in h.color for h in hits]
    assert white[0] and white == sorted(white, reverse=True)  # white ones first; others only after them all


async def test_a_misspelt_question_finds_what_the_right_spelling_finds(demo: Catalog) -> None:
    right = [h.item_group_id for h in await demo.search(DEMO_TENANT, "chaqueta de cuero mujer", limit=3)]
    wrong = [h.item_group_id for h in await demo.search(DEMO_TENANT, "chaketa de cuero mujer", limit=3)]
    assert right == wrong and right[0] == "VCUEW"


async def test_get_product_returns_the_variant_asked_with_its_siblings(demo: Catalog) -> None:
    product = await demo.get_product(DEMO_TENANT, "AM90-NEG-41")
    assert product is not None and product.id == "AM90-NEG-41" and product.item_group_id == "AM90"
    assert {v.color for v in product.variants} == {"Blanco", "Negro"} and len(product.variants) == 16
    assert await demo.get_product(DEMO_TENANT, "AM90") is not None  # by group id too
    assert await demo.get_product(DEMO_TENANT, "NOPE") is None
