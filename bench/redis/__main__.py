"""python -m bench.redis: CPU per Redis command of the client the services use (`wapipe.redis.connect`), with
auto-pipelining (`wapipe.redis_mux`) and without, one command at a time and with many in flight.

Both clients run against the same redis-server in the same process, in turns; the figure is the process's CPU
time over the commands (`time.process_time`), so the server's share is not in it."""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path
from typing import Any

from bench.common.calibrate import calibration_ms
from wapipe.redis import RedisConnection, connect
from wapipe.runtime.loop import run
from wapipe_tools.local.servers import start_redis

Row = dict[str, Any]


async def _cpu_us(op: Any, commands: int, in_flight: int) -> float:
    t0 = time.process_time()
    for _ in range(commands // in_flight):
        await asyncio.gather(*(op() for _ in range(in_flight)))
    return (time.process_time() - t0) / (commands // in_flight * in_flight) * 1e6


async def measure(url: str, commands: int, rounds: int) -> list[Row]:
    rows: list[Row] = []
    clients = {"pooled": connect(RedisConnection(url, autopipeline=False)), "shared": connect(url)}
    try:
        await clients["pooled"].set("wapipe:bench:k", "v" * 64)
        for in_flight in (1, 16):
            for name, r in clients.items():
                ops = {"GET": lambda r=r: r.get("wapipe:bench:k"),
                       "EVAL": lambda r=r: r.eval("return redis.call('EXISTS', KEYS[1])", 1, "wapipe:bench:k")}
                for command, op in ops.items():
                    await _cpu_us(op, 200, in_flight)  # warm: connections open, scripts cached
                    best = min([await _cpu_us(op, commands, in_flight) for _ in range(rounds)])
                    rows.append({"client": name, "command": command, "in_flight": in_flight, "cpu_us": best})
    finally:
        for r in clients.values():
            await r.aclose()
    return rows


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.redis")
    p.add_argument("--commands", type=int, default=4000, help="commands per measurement")
    p.add_argument("--rounds", type=int, default=3, help="best of")
    p.add_argument("--redis-server", default=None, help="a redis-server binary instead of the embedded one")
    p.add_argument("--out", type=Path, default=Path("bench/results/redis.json"))
    args = p.parse_args()
    cal = calibration_ms()
    print(f"machine: sum(range(10**6)) in {cal} ms (less is faster)")
    server = start_redis(binary=args.redis_server)
    try:
        rows = run(measure(f"redis://{server.address}/0", args.commands, args.rounds), "uvloop")
    finally:
        server.stop()
    print(f"{'command':<8}{'in flight':>10}{'pooled us':>12}{'shared us':>12}{'ratio':>8}")
    for command in ("GET", "EVAL"):
        for in_flight in (1, 16):
            pooled, shared = (next(r["cpu_us"] for r in rows if r["client"] == c and r["command"] == command
                                   and r["in_flight"] == in_flight) for c in ("pooled", "shared"))
            print(f"{command:<8}{in_flight:>10}{pooled:>12.0f}{shared:>12.0f}{shared / pooled:>7.2f}x")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"calibration_ms": cal, "rows": rows}, indent=1) + "\n")
    print(f"results in {args.out}")


if __name__ == "__main__":
    main()
