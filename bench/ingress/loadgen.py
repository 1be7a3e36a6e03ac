"""A small HTTP/1.1 keep-alive load generator on asyncio streams (lighter than a full client, so the server
under test is what saturates). Closed loop: `workers` connections as fast as answers come. Open loop: a fixed
request rate, latency measured from each request's scheduled start (no coordinated omission)."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.common.http import Conn


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    elapsed: float = 0.0

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        if len(self.latencies) < 2:
            return self.latencies[0]
        return statistics.quantiles(self.latencies, n=1000)[int(q * 1000) - 1]


MakeRequest = Callable[[int], tuple[bytes, dict[str, str]]]


async def closed_loop(host: str, port: int, path: str, make: MakeRequest, workers: int, duration: float) -> Result:
    res = Result()
    deadline = time.perf_counter() + duration
    counter = iter(range(10**9))

    async def worker() -> None:
        conn = Conn(host, port)
        try:
            while time.perf_counter() < deadline:
                body, headers = make(next(counter))
                t0 = time.perf_counter()
                status = await conn.request(path, body, headers)
                res.latencies.append(time.perf_counter() - t0)
                res.statuses[status] = res.statuses.get(status, 0) + 1
        finally:
            conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    res.elapsed = time.perf_counter() - started
    return res


async def open_loop(host: str, port: int, path: str, make: MakeRequest, rate: float, duration: float,
                    max_conns: int = 64) -> Result:
    res = Result()
    pool: asyncio.Queue[Conn] = asyncio.Queue()
    for _ in range(max_conns):
        pool.put_nowait(Conn(host, port))
    started = time.perf_counter()
    total = int(rate * duration)
    tasks = []

    async def one(i: int, scheduled: float) -> None:
        conn = await pool.get()
        body, headers = make(i)
        try:
            status = await conn.request(path, body, headers)
        finally:
            pool.put_nowait(conn)
        res.latencies.append(time.perf_counter() - scheduled)
        res.statuses[status] = res.statuses.get(status, 0) + 1

    for i in range(total):
        scheduled = started + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, scheduled)))
    await asyncio.gather(*tasks)
    res.elapsed = time.perf_counter() - started
    while not pool.empty():
        pool.get_nowait().close()
    return res
