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
    # process -> CPU ms per reply over the phase (load, replies, then the settle for statuses); "wapipe" sums
    # ours (the services, media when present, Redis), apart from the broker's and the simulator's shares.
    cpu_ms_per_reply: dict[str, float] = field(default_factory=dict)
    # The same less each process's idle rate (`idle_cpu`, measured before the phases) over the phase's wall time:
    # on a busy shared machine a phase lasts longer and the idle polling of every consumer adds up.
    cpu_ms_per_reply_net: dict[str, float] = field(default_factory=dict)
    wall_s: float = 0.0
    coalesced: int = 0  # AI messages answered together with a neighbour (one reply for the burst)

    def row(self) -> str:
        return (f"{self.name:<22} {self.rate:7.0f} {self.accepted:6d} {self.answered:6d} {self.lost:4d} "
                f"{self.duplicated:4d} {self.p50 * 1000:8.0f} {self.p95 * 1000:8.0f} {self.p99 * 1000:8.0f} "
                f"{self.post_rps:7.0f} {self.sustained:7.0f} {self.coalesced:5d}")


HEADER = (f"{'phase':<22} {'rate':>7} {'acc':>6} {'ans':>6} {'lost':>4} {'dup':>4} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'p99 ms':>8} {'in/s':>7} {'out/s':>7} {'coal':>5}")


# Ours: what a deployment of wapipe runs and pays for. The broker and the simulator (Meta's side) are apart.
APART = ("broker", "simulator")


def cpu_per_reply(cpu_s: dict[str, float], replies: int) -> dict[str, float]:
    """CPU ms per reply of each process, plus "wapipe" (every process but the broker and the simulator)."""
    if replies <= 0:
        return {}
    out = {n: round(1000 * s / replies, 3) for n, s in sorted(cpu_s.items())}
    out["wapipe"] = round(1000 * sum(s for n, s in cpu_s.items() if n not in APART) / replies, 3)
    return out


def idle_cpu(stack: BenchStack, seconds: float = 10.0) -> dict[str, float]:
    """CPU seconds per second each process spends with no load at all (consumers poll, servers tick)."""
    pids = stack.pids()
    before, t0 = {n: cpu_seconds(p) for n, p in pids.items()}, time.monotonic()
    time.sleep(seconds)
    wall = time.monotonic() - t0
    return {n: max(0.0, (cpu_seconds(p) - before[n]) / wall) for n, p in pids.items()}


def cpu_line(r: PhaseResult) -> str:
    ms = r.cpu_ms_per_reply
    if not ms:
        return "    cpu_ms_per_reply: no replies"
    ours = ", ".join(f"{k} {v:.2f}" for k, v in ms.items() if k not in (*APART, "wapipe"))
    apart = ", ".join(f"{k} {ms[k]:.2f}" for k in APART if k in ms)
    net = r.cpu_ms_per_reply_net.get("wapipe")
    return (f"    cpu_ms_per_reply: wapipe {ms['wapipe']:.2f} ({ours}); apart: {apart}"
            + (f"; wapipe net of idle {net:.2f}" if net is not None else ""))


def _q(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


def wait_replies(sim_url: str, msgs: list[Sent], timeout: float, quiet_s: float = 30.0) -> list[dict[str, object]]:
    """Poll the simulator until every accepted message is answered, or nothing new arrives for `quiet_s` (a slow
    model on a busy machine may take more than 10 s to start answering)."""
    want = sum(1 for m in msgs if m.accepted)
    deadline, last_n, last_change = time.monotonic() + timeout, -1, time.monotonic()
    while True:
        graph = sim_messages(sim_url)
        n = len(graph)
        if n != last_n:
            last_n, last_change = n, time.monotonic()
        if n >= want or time.monotonic() > deadline or time.monotonic() - last_change > quiet_s:
            return graph
        time.sleep(1.0)


def run_phase(stack: BenchStack, db: Path, secret: str, *, name: str, route: str, rate: float, duration: float,
              llm_s: float, tag: int, spacing_s: float = 3.0, timeout: float = 600.0,
              settle_s: float = 3.0, idle: dict[str, float] | None = None) -> PhaseResult:
    sim_post(stack.sim_url, "/_sim/reset")
    sim_post(stack.sim_url, "/_sim/llm", {"latency_s": llm_s})
    total = max(1, int(rate * duration))
    convs = max(1, min(total, math.ceil(rate * spacing_s)))
    msgs = plan(convs, math.ceil(total / convs), route, rate, tag)[:total]
    pids = stack.pids()
    cpu0, t0 = {n: cpu_seconds(p) for n, p in pids.items()}, time.monotonic()
    stats = asyncio.run(post_all(stack.ingress_url, secret, msgs, max_conns=128))
    graph = wait_replies(stack.sim_url, msgs, timeout)
    time.sleep(settle_s)  # the replies' status webhooks and commits belong to the phase's cost
    wall = time.monotonic() - t0
    used = {n: cpu_seconds(p) - cpu0[n] for n, p in pids.items()}
    cpu = {n: round(100 * s / wall, 1) for n, s in used.items()}
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
        statuses=stats.statuses, cpu=cpu, cpu_ms_per_reply=cpu_per_reply(used, out.answered), wall_s=wall,
        cpu_ms_per_reply_net=cpu_per_reply({n: max(0.0, u - (idle or {}).get(n, 0.0) * wall) for n, u in used.items()},
                                           out.answered) if idle else {},
        coalesced=len(coalesced))
