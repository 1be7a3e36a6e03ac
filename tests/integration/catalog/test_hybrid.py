"""Hybrid catalog search: group embeddings made at import through the real `openai` client against the
simulator's deterministic `/v1/embeddings`, fused with the lexical ranking; a failing endpoint falls back to the
lexical answer. The labelled set must not drop below the lexical floor with hybrid on."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
import pytest_asyncio

from bench.catalog.quality import DEMO_FEED, DEMO_TENANT, QUESTIONS, evaluate, load
from wapipe.catalog import Catalog, CatalogStore, open_catalog
from wapipe.catalog.embeddings import OpenAIEmbedder
from wapipe.catalog.importer import import_feed
from wapipe.catalog.memory import MemoryCatalog
from wapipe_tools.simulator.serve import BackgroundSimulator
from wapipe_tools.simulator.state import SimState

pytestmark = pytest.mark.asyncio(loop_scope="module")
MODEL = "sim-embeddings"


@pytest.fixture(scope="module")
def sim() -> Iterator[BackgroundSimulator]:
    with BackgroundSimulator(SimState(ingress_url=None, status_webhooks=False)) as s:
        yield s


def fail_embeddings(sim: BackgroundSimulator, fail: bool) -> None:
    httpx.post(f"{sim.url}/_sim/embeddings", json={"fail": fail}, timeout=5).raise_for_status()


@dataclass
class Demo:
    store: CatalogStore
    embedder: OpenAIEmbedder


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=["sqlite", "memory"])
async def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
               sim: BackgroundSimulator) -> AsyncIterator[Demo]:
    store: CatalogStore = MemoryCatalog() if request.param == "memory" else open_catalog(
        f"sqlite:///{tmp_path_factory.mktemp('hybrid') / 'demo.db'}")
    await store.migrate()
    embedder = OpenAIEmbedder(MODEL, f"{sim.url}/v1", "dev-openai-key")
    result = await import_feed(store, DEMO_TENANT, DEMO_FEED, embedder=embedder)
    assert result.errors == [] and result.version is not None
    try:
        yield Demo(store, embedder)
    finally:
        await embedder.close()
        await store.close()


async def test_import_stores_one_vector_per_product_group(demo: Demo) -> None:
    version = await demo.store.version(DEMO_TENANT)
    vectors = await demo.store.vectors(DEMO_TENANT, MODEL)
    assert version is not None and len(vectors) == version.groups
    assert await demo.store.vectors(DEMO_TENANT, "another-model") == {}


async def test_hybrid_keeps_the_labelled_set_above_the_lexical_floor(demo: Demo) -> None:
    questions = load(QUESTIONS)
    lexical = await evaluate(Catalog(demo.store), DEMO_TENANT, questions)
    hybrid_catalog = Catalog(demo.store, demo.embedder)
    hybrid = await evaluate(hybrid_catalog, DEMO_TENANT, questions)
    print(f"lexical recall@3 {lexical.recall_at_3:.3f} MRR {lexical.mrr:.3f}; "
          f"hybrid recall@3 {hybrid.recall_at_3:.3f} MRR {hybrid.mrr:.3f}; hybrid misses {hybrid.misses}")
    assert hybrid_catalog.embedding_fallbacks == 0
    assert hybrid.recall_at_3 >= 0.92 and hybrid.mrr >= 0.88, hybrid.misses


async def test_hybrid_ranking_differs_from_lexical_somewhere(demo: Demo) -> None:
    lexical, hybrid = Catalog(demo.store), Catalog(demo.store, demo.embedder)
    differ = 0
    for q in load(QUESTIONS)[:40]:
        a = [h.item_group_id for h in await lexical.search(DEMO_TENANT, q["q"], limit=5)]
        b = [h.item_group_id for h in await hybrid.search(DEMO_TENANT, q["q"], limit=5)]
        differ += a != b
    assert differ > 0  # the vectors take part in the ranking


async def test_a_failing_endpoint_falls_back_to_the_lexical_answer(demo: Demo, sim: BackgroundSimulator) -> None:
    question = "¿tienen los Air Max 90 blancos en 40?"
    lexical = await Catalog(demo.store).search(DEMO_TENANT, question, limit=5)
    hybrid = Catalog(demo.store, demo.embedder)
    fail_embeddings(sim, True)
    try:
        hits = await hybrid.search(DEMO_TENANT, question, limit=5)
    finally:
        fail_embeddings(sim, False)
    assert hybrid.embedding_fallbacks == 1
    assert [h.id for h in hits] == [h.id for h in lexical] and hits[0].item_group_id == "AM90"


async def test_an_import_with_the_endpoint_down_is_lexical_only(sim: BackgroundSimulator) -> None:
    store = MemoryCatalog()
    embedder = OpenAIEmbedder(MODEL, f"{sim.url}/v1", "dev-openai-key")
    fail_embeddings(sim, True)
    try:
        result = await import_feed(store, DEMO_TENANT, DEMO_FEED, embedder=embedder)
    finally:
        fail_embeddings(sim, False)
        await embedder.close()
    assert result.version is not None and await store.vectors(DEMO_TENANT, MODEL) == {}
    hits = await Catalog(store, embedder).search(DEMO_TENANT, "chaqueta impermeable", limit=3)
    assert hits  # no vectors stored: lexical, and the (closed) client is never called
