"""The catalog's contract, held by every backend: SQLite (FTS5), Cassandra when one is reachable, and the
in-memory reference. A replacement is one switch (readers see the old catalog or the new one), a failed one
leaves the old catalog, an upsert changes rows in place, and a reader notices a new version without a restart."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from tests.support import unique
from wapipe.catalog import Catalog, CatalogStore, Money, Product, open_catalog
from wapipe.catalog.memory import MemoryCatalog
from wapipe.catalog.sqlite import BATCH

Factory = Callable[[], CatalogStore]


def shoe(pid: str, group: str, size: str, *, colour: str = "Blanco", stock: int = 5, title: str = "Tenis Andino",
         price: int = 189900) -> Product:
    return Product(id=pid, title=f"{title} {colour}", price=Money(Decimal(price), "COP"), item_group_id=group,
                   size=size, color=colour, quantity=stock, availability="in stock" if stock else "out of stock",
                   product_type="Calzado > Zapatillas", brand="Andino", link=f"https://shop.example/{group}")


def many(prefix: str, n: int, title: str) -> Iterator[Product]:
    for i in range(n):
        yield shoe(f"{prefix}-{i}", f"{prefix}-G{i // 4}", str(36 + i % 4), title=title)


@pytest.fixture(params=["sqlite", "cassandra", "memory"])
async def make_catalog(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Factory]:
    """Opens stores of one backend on the same data (a second reader, another process's view)."""
    opened: list[CatalogStore] = []
    shared = MemoryCatalog()
    url = ""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/catalog.db"
    elif request.param == "cassandra":
        url = str(request.getfixturevalue("cassandra_url"))

    def make() -> CatalogStore:
        store: CatalogStore = shared if not url else open_catalog(url)
        opened.append(store)
        return store

    first = make()
    await first.migrate()
    try:
        yield make
    finally:
        for store in opened:
            await store.close()


@pytest.fixture
def tenant() -> str:
    return unique("cat")


async def test_a_replacement_is_counted_searchable_and_looked_up(make_catalog: Factory, tenant: str) -> None:
    store = make_catalog()
    assert await store.version(tenant) is None
    rows = [shoe("AND-BLA-40", "AND", "40"), shoe("AND-BLA-41", "AND", "41", stock=0),
            shoe("AND-NEG-40", "AND", "40", colour="Negro"), shoe("BOT-1", "", "", title="Bota Llanera")]
    v = await store.replace(tenant, rows, source="shop.csv", checksum="abc")
    assert (v.version, v.products, v.groups, v.in_stock, v.source, v.checksum) == (1, 4, 2, 3, "shop.csv", "abc")
    assert await store.version(tenant) == v
    assert await store.get(tenant, "AND-BLA-41") == rows[1]
    assert await store.get(tenant, "nope") is None
    assert {p.id for p in (await store.groups(tenant, ["AND", "BOT-1", "nope"]))["AND"]} == {
        "AND-BLA-40", "AND-BLA-41", "AND-NEG-40"}
    hits = await Catalog(store).search(tenant, "tenis blancos talla 41", limit=5)
    assert (hits[0].item_group_id, hits[0].size, hits[0].availability) == ("AND", ["41"], "out of stock")
    assert [v.id for v in hits[0].variants] == ["AND-BLA-41"]  # only the variants that fit size and colour
    assert await Catalog(store).search(tenant, "tenis de menos de 100 mil", limit=5) == []  # budgets are strict
    assert await Catalog(store).search(unique("other"), "tenis", limit=5) == []  # tenants never mix


async def test_readers_see_the_old_catalog_until_the_switch_then_the_new_one(make_catalog: Factory,
                                                                            tenant: str) -> None:
    reader = make_catalog()
    await reader.replace(tenant, many("OLD", 12, "Sandalia Costera"))
    catalog = Catalog(reader)
    assert (await catalog.search(tenant, "sandalias", limit=3))[0].title.startswith("Sandalia Costera")
    midway, go_on = threading.Event(), threading.Event()

    def rows() -> Iterator[Product]:
        for i, p in enumerate(many("NEW", BATCH + 10, "Bota Paramuna")):
            if i == BATCH + 5:  # the first batch is written, the rest not yet
                midway.set()
                go_on.wait(120)
            yield p

    def writer() -> None:
        async def run() -> None:
            store = make_catalog()
            await store.replace(tenant, rows())

        asyncio.run(run())

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert await asyncio.to_thread(midway.wait, 120)
        assert (await reader.version(tenant)).version == 1  # type: ignore[union-attr]
        assert await catalog.search(tenant, "bota", limit=3) == []
        assert len(await catalog.search(tenant, "sandalia", limit=50)) == 3
    finally:
        go_on.set()
        await asyncio.to_thread(thread.join, 300)
    v = await reader.version(tenant)
    assert v is not None and (v.version, v.products) == (2, BATCH + 10)
    assert (await catalog.search(tenant, "bota", limit=3))[0].title.startswith("Bota Paramuna")
    assert await catalog.search(tenant, "sandalia", limit=3) == []
    assert await reader.get(tenant, "OLD-1") is None


async def test_a_failed_replacement_leaves_the_old_catalog_whole(make_catalog: Factory, tenant: str) -> None:
    store = make_catalog()
    await store.replace(tenant, many("OLD", 8, "Sandalia Costera"))
    vocabulary = await store.vocabulary(tenant)

    def broken() -> Iterator[Product]:
        yield from many("NEW", BATCH + 3, "Bota Paramuna")
        raise OSError("disk gone")

    with pytest.raises(OSError, match="disk gone"):
        await store.replace(tenant, broken())
    v = await store.version(tenant)
    assert v is not None and (v.version, v.products) == (1, 8)
    assert await store.vocabulary(tenant) == vocabulary
    assert await store.get(tenant, "NEW-1") is None
    assert await Catalog(store).search(tenant, "bota paramuna", limit=3) == []


async def test_an_upsert_changes_a_few_rows_and_a_reader_notices(make_catalog: Factory, tenant: str) -> None:
    store, other = make_catalog(), make_catalog()
    await store.replace(tenant, [shoe("AND-BLA-40", "AND", "40"), shoe("AND-BLA-41", "AND", "41")])
    catalog = Catalog(other)  # another process's reader, opened before the change
    assert (await catalog.search(tenant, "tenis talla 41", limit=1))[0].availability == "in stock"
    sold_out = replace(shoe("AND-BLA-41", "AND", "41", stock=0), price=Money(Decimal(159900), "COP"))
    v = await store.upsert(tenant, [sold_out, shoe("AND-BLA-42", "AND", "42")])
    assert (v.version, v.products, v.groups, v.in_stock) == (2, 3, 1, 2)
    [hit] = await catalog.search(tenant, "tenis talla 41", limit=1)
    assert (hit.availability, hit.price) == ("out of stock", 159900)
    assert (await catalog.search(tenant, "tenis", limit=1))[0].size == ["40", "42"]
    full = await catalog.get_product(tenant, "AND-BLA-41")
    assert full is not None and full.id == "AND-BLA-41" and len(full.variants) == 3


async def test_an_upsert_into_an_empty_catalog_creates_version_one(make_catalog: Factory, tenant: str) -> None:
    store = make_catalog()
    v = await store.upsert(tenant, [shoe("AND-BLA-40", "AND", "40")])
    assert (v.version, v.products) == (1, 1)
    assert [h.id for h in await Catalog(store).search(tenant, "andino", limit=3)] == ["AND-BLA-40"]


async def test_group_vectors_live_beside_the_current_version_and_go_with_it(make_catalog: Factory,
                                                                           tenant: str) -> None:
    store = make_catalog()
    await store.put_vectors(tenant, "m", {"G": [1.0]})  # no catalog yet: nothing to store beside
    assert await store.vectors(tenant, "m") == {}
    await store.replace(tenant, [shoe("A-1", "A", "40"), shoe("B-1", "B", "41")])
    await store.put_vectors(tenant, "m", {"A": [0.6, 0.8], "B": [1.0, 0.0]})
    await store.put_vectors(tenant, "other", {"A": [0.0, 1.0]})
    reader = make_catalog()
    assert await reader.vectors(tenant, "m") == {"A": [0.6, 0.8], "B": [1.0, 0.0]}
    assert await reader.vectors(tenant, "other") == {"A": [0.0, 1.0]}
    await store.upsert(tenant, [shoe("A-1", "A", "40", stock=0)])  # same generation: the vectors stay
    assert set(await reader.vectors(tenant, "m")) == {"A", "B"}
    await store.replace(tenant, [shoe("C-1", "C", "42")])  # a new catalog: the old vectors are gone
    assert await reader.vectors(tenant, "m") == {} and await reader.vectors(tenant, "other") == {}
