"""Catalog benchmarks: ranking quality on the labelled questions, and search latency on synthetic catalogs.

    .venv/bin/python -m bench.catalog quality [--hybrid]
    .venv/bin/python -m bench.catalog latency --products 10000 100000 [--queries 300]

`quality` imports the demo catalog (config/catalogs/demo.csv) and prints recall@3 and MRR on
tests/data/labelled/catalog_questions.yaml and the holdout, for SQLite (FTS5) and the in-memory index (what a
Cassandra reader searches); `--hybrid` also imports group embeddings from the simulator's deterministic
`/v1/embeddings` (started on a free port, WAPIPE_ENV=dev) and adds the hybrid rows.
`latency` imports each synthetic catalog into a fresh SQLite file (timed) and into
the in-memory index, then times `Catalog.search` one question at a time: p50, p99 and mean wall-clock, and the
process's CPU time per question (ms).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from typing import Any

from bench.catalog import synthetic
from bench.catalog.quality import DEMO_FEED, DEMO_TENANT, HOLDOUT, QUESTIONS, evaluate, load
from wapipe.catalog import Catalog, CatalogStore, open_catalog
from wapipe.catalog.embeddings import OpenAIEmbedder
from wapipe.catalog.importer import import_feed
from wapipe.catalog.memory import MemoryCatalog
from wapipe_tools.simulator.serve import BackgroundSimulator
from wapipe_tools.simulator.state import SimState

TENANT = "100000000000001"


def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def quality(sim_url: str = "") -> list[dict[str, Any]]:
    rows = []
    embedder = OpenAIEmbedder("sim-embeddings", f"{sim_url}/v1", "dev-openai-key") if sim_url else None
    with tempfile.TemporaryDirectory() as tmp:
        for backend in ("sqlite", "memory"):
            store: CatalogStore = MemoryCatalog() if backend == "memory" else open_catalog(f"sqlite:///{tmp}/q.db")
            await store.migrate()
            await import_feed(store, DEMO_TENANT, DEMO_FEED, embedder=embedder)
            for ranking, catalog in (("lexical", Catalog(store)), ("hybrid", Catalog(store, embedder))):
                if ranking == "hybrid" and embedder is None:
                    continue
                for name, path in (("labelled", QUESTIONS), ("holdout", HOLDOUT)):
                    q = await evaluate(catalog, DEMO_TENANT, load(path))
                    rows.append({"backend": backend, "ranking": ranking, "set": name, "questions": q.questions,
                                 "recall_at_3": round(q.recall_at_3, 3), "mrr": round(q.mrr, 3),
                                 "misses": [m["q"] for m in q.misses]})
            await store.close()
    if embedder is not None:
        await embedder.close()
    return rows


def _quality(hybrid: bool) -> list[dict[str, Any]]:
    if not hybrid:
        return asyncio.run(quality())
    with BackgroundSimulator(SimState(ingress_url=None, status_webhooks=False)) as sim:
        return asyncio.run(quality(sim.url))


async def _time(catalog: Catalog, queries: list[str]) -> tuple[list[float], float, int]:
    """Wall-clock samples, CPU seconds per query (every thread of the process: the measure that a busy shared
    machine inflates least), questions without a hit."""
    samples, empty = [], 0
    await catalog.search(TENANT, queries[0])  # warm: vocabulary read, index built
    cpu = time.process_time()
    for q in queries:
        start = time.perf_counter()
        hits = await catalog.search(TENANT, q, limit=5)
        samples.append(time.perf_counter() - start)
        empty += not hits
    return samples, (time.process_time() - cpu) / len(queries), empty


async def latency(sizes: list[int], n_queries: int) -> list[dict[str, Any]]:
    rows = []
    queries = synthetic.questions(n_queries)
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            sqlite = open_catalog(f"sqlite:///{tmp}/bench.db")
            await sqlite.migrate()
            start = time.perf_counter()
            await sqlite.replace(TENANT, synthetic.catalog(size))
            imported = time.perf_counter() - start
            memory = MemoryCatalog()
            await memory.replace(TENANT, synthetic.catalog(size))
            for backend, store, import_s in (("sqlite", sqlite, imported), ("memory", memory, None)):
                samples, cpu, empty = await _time(Catalog(store), queries)
                rows.append(row := {"backend": backend, "products": size, "queries": len(samples),
                             "import_s": None if import_s is None else round(import_s, 1),
                             "p50_ms": round(pct(samples, 50) * 1000, 1), "p99_ms": round(pct(samples, 99) * 1000, 1),
                             "mean_ms": round(statistics.fmean(samples) * 1000, 1),
                             "cpu_ms_per_query": round(cpu * 1000, 1), "no_hits": empty})
                print(json.dumps(row), flush=True)  # noqa: T201  (as it comes: a 100,000 run takes minutes)
            await sqlite.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.catalog")
    sub = parser.add_subparsers(dest="what", required=True)
    qual = sub.add_parser("quality")
    qual.add_argument("--hybrid", action="store_true", help="also rank with the simulator's embeddings")
    lat = sub.add_parser("latency")
    lat.add_argument("--products", type=int, nargs="+", default=[10_000, 100_000])
    lat.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    if args.what == "latency":
        asyncio.run(latency(args.products, args.queries))
        return
    for row in _quality(args.hybrid):
        print(json.dumps(row, ensure_ascii=False))  # noqa: T201


if __name__ == "__main__":
    main()
