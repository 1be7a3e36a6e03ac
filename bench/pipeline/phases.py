"""One measured phase of the pipeline benchmark: post signed webhooks at a rate, wait for the replies at the
simulator's Graph API, and summarise latency, throughput and per-stage timings."""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.common.check import match
from bench.common.stack import BenchStack, cpu_seconds, sim_messages, sim_post
from bench.common.traces import outcomes, stage_durations
from bench.common.webhooks import Sent, plan, post_all


@dataclass
class PhaseResult:
    name: str
    route: str
    llm_s: float
    rate: float
    posted: int
    accepted: int
    answered: int
    lost: int
    duplicated: int
    p50: float
    p95: float
    p99: float
    post_rps: float  # webhooks accepted per second
    sustained: float  # replies per second, first post to last reply
    stages: dict[str, tuple[float, float]] = field(default_factory=dict)  # stage -> (p50, p99) seconds
    statuses: dict[int, int] = field(default_factory=dict)  # ingress HTTP statuses of the posts
    cpu: dict[str, float] = field(default_factory=dict)  # process -> % of one core over the phase
    coalesced: int = 0  # AI messages answered together with a neighbour (one reply for the burst)

    def row(self) -> str:
        return (f"{self.name:<22} {self.rate:7.0f} {self.accepted:6d} {self.answered:6d} {self.lost:4d} "
                f"{self.duplicated:4d} {self.p50 * 1000:8.0f} {self.p95 * 1000:8.0f} {self.p99 * 1000:8.0f} "
                f"{self.post_rps:7.0f} {self.sustained:7.0f} {self.coalesced:5d}")


HEADER = (f"{'phase':<22} {'rate':>7} {'acc':>6} {'ans':>6} {'lost':>4} {'dup':>4} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'p99 ms':>8} {'in/s':>7} {'out/s':>7} {'coal':>5}")


def _q(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


def wait_replies(sim_url: str, msgs: list[Sent], timeout: float) -> list[dict[str, object]]:
    """Poll the simulator until every accepted message is answered, or nothing new arrives for 10 s."""
    want = sum(1 for m in msgs if m.accepted)
    deadline, last_n, last_change = time.monotonic() + timeout, -1, time.monotonic()
    while True:
        graph = sim_messages(sim_url)
        n = len(graph)
        if n != last_n:
            last_n, last_change = n, time.monotonic()
        if n >= want or time.monotonic() > deadline or time.monotonic() - last_change > 10:
            return graph
        time.sleep(1.0)


def run_phase(stack: BenchStack, db: Path, secret: str, *, name: str, route: str, rate: float, duration: float,
              llm_s: float, tag: int, spacing_s: float = 3.0, timeout: float = 600.0) -> PhaseResult:
    sim_post(stack.sim_url, "/_sim/reset")
    sim_post(stack.sim_url, "/_sim/llm", {"latency_s": llm_s})
    total = max(1, int(rate * duration))
    convs = max(1, min(total, math.ceil(rate * spacing_s)))
    msgs = plan(convs, math.ceil(total / convs), route, rate, tag)[:total]
    pids = stack.pids()
    cpu0, t0 = {n: cpu_seconds(p) for n, p in pids.items()}, time.monotonic()
    stats = asyncio.run(post_all(stack.ingress_url, secret, msgs, max_conns=128))
    graph = wait_replies(stack.sim_url, msgs, timeout)
    wall = time.monotonic() - t0
    cpu = {n: round(100 * (cpu_seconds(p) - cpu0[n]) / wall, 1) for n, p in pids.items()}
    # A burst the AI answered together (a slow stage lets several messages queue) gets one reply: not lost.
    coalesced = {c for c, o in outcomes(db, {m.wamid for m in msgs if m.route == "ai"}).items() if "coalesced" in o}
    out = match(msgs, graph, excused=coalesced)
    accepted = [m for m in msgs if m.accepted]
    first = min(m.scheduled for m in msgs)
    span = max(m.accepted for m in accepted) - first if accepted else 0.0
    stages = stage_durations(db, {m.wamid for m in msgs})
    return PhaseResult(
        name=name, route=route, llm_s=llm_s, rate=rate, posted=len(msgs), accepted=len(accepted),
        answered=out.answered, lost=len(out.lost), duplicated=len(out.duplicated), p50=out.pct(0.5),
        p95=out.pct(0.95), p99=out.pct(0.99), post_rps=len(accepted) / span if span else 0.0,
        sustained=out.answered / (out.last_reply - first) if out.last_reply > first else 0.0,
        stages={k: (_q(v, 0.5), _q(v, 0.99)) for k, v in sorted(stages.items())},
        statuses=stats.statuses, cpu=cpu, coalesced=len(coalesced))
