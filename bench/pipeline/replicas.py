"""python -m bench.pipeline.replicas: the capacity model's scale-out, checked on one machine.

    .venv/bin/python -m bench.pipeline.replicas [--rates 20,40] [--duration 10]

The whole stack as `make bench` runs it, twice on the same machine, one after the other: first with one
process of the sender and of guardrails, then with a second process of each (same consumer groups, their own
metrics ports), the same FAQ phases on both. After the two-replica phases, each process's /metrics says which
partitions of each topic it holds (`wapipe_consumer_lag` has one series per partition the process owns) and
how many records it finished (`wapipe_records_total`).

The check (exit 1 when it fails): for every topic the two processes read, they hold disjoint sets of partitions
that together are all of them, each finished records, and every phase lost and duplicated nothing.
Writes bench/results/replicas.json.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import asdict
from pathlib import Path

import httpx

from bench.common.stack import BenchStack, sim_post
from bench.pipeline.phases import HEADER, PhaseResult, cpu_line, run_phase
from schemas.topics import TOPICS

ROOT = Path(__file__).parents[2]
REPLICATED = ("sender", "guardrails")
SAMPLE = re.compile(r'^(\w+)\{([^}]*)\} ([0-9.e+-]+)$')


def series(metrics_url: str, name: str) -> list[tuple[dict[str, str], float]]:
    """The samples of one metric on a /metrics page: (labels, value)."""
    out = []
    for line in httpx.get(metrics_url, timeout=10).text.splitlines():
        m = SAMPLE.match(line)
        if m and m.group(1) == name:
            labels = dict(kv.split("=", 1) for kv in re.findall(r'\w+="[^"]*"', m.group(2)))
            out.append(({k: v.strip('"') for k, v in labels.items()}, float(m.group(3))))
    return out


def holdings(stack: BenchStack, name: str) -> tuple[dict[str, list[int]], float]:
    """(topic -> partitions this process holds, records it finished)."""
    url = stack.child(name).spec.metrics_url
    assert url is not None
    parts: dict[str, list[int]] = defaultdict(list)
    for labels, _ in series(url, "wapipe_consumer_lag"):
        parts[labels["topic"]].append(int(labels["partition"]))
    done = sum(v for _, v in series(url, "wapipe_records_total"))
    return {t: sorted(p) for t, p in sorted(parts.items())}, done


def split_check(stack: BenchStack) -> tuple[dict[str, object], list[str]]:
    doc: dict[str, object] = {}
    failures: list[str] = []
    partitions = {t.name: t.partitions for t in TOPICS}
    for service in REPLICATED:
        (a, done_a), (b, done_b) = holdings(stack, service), holdings(stack, f"{service}-2")
        doc[service] = {"replica_1": {"partitions": a, "records": done_a},
                        "replica_2": {"partitions": b, "records": done_b}}
        print(f"{service}: replica 1 finished {done_a:.0f} records, replica 2 {done_b:.0f}", flush=True)
        for topic in sorted(set(a) | set(b)):
            pa, pb = set(a.get(topic, [])), set(b.get(topic, []))
            whole = set(range(partitions.get(topic, 0)))
            print(f"    {topic:<28} replica 1 {sorted(pa)}  replica 2 {sorted(pb)}", flush=True)
            if pa & pb:
                failures.append(f"{service} {topic}: both replicas hold {sorted(pa & pb)}")
            if pa | pb != whole:
                failures.append(f"{service} {topic}: nobody holds {sorted(whole - (pa | pb))}")
            if not pa or not pb:
                failures.append(f"{service} {topic}: one replica holds nothing")
        if not done_a or not done_b:
            failures.append(f"{service}: a replica finished no record")
    return doc, failures


def run_stack(state: Path, port_base: int, replicas: tuple[str, ...], rates: list[float], duration: float,
              tag: int, redis_server: str | None) -> tuple[list[PhaseResult], dict[str, object], list[str]]:
    stack = BenchStack(state, port_base, {"WAPIPE_NUMBER_RATE": "5000", "WAPIPE_NUMBER_BURST": "5000",
                                          "WAPIPE_GRAPH_MAX_CONNECTIONS": "8"}, replicas=replicas,
                       redis_server=redis_server)
    secret = stack.stack.env["WAPIPE_META_APP_SECRET"]
    results: list[PhaseResult] = []
    try:
        print(f"stack with {len(replicas) + 1 if replicas else 1} process(es) of {', '.join(REPLICATED)} ready in "
              f"{stack.start():.1f}s", flush=True)
        sim_post(stack.sim_url, "/_sim/limits", {"number_rate": 5000, "number_burst": 5000, "enforce_window": False})
        run_phase(stack, state / "wapipe.db", secret, name="warm-up", route="faq", rate=20, duration=2, llm_s=0,
                  tag=tag)
        print(HEADER, flush=True)
        for rate in rates:
            tag += 1
            label = "2 replicas" if replicas else "1 replica"
            r = run_phase(stack, state / "wapipe.db", secret, name=f"faq@{rate:g} {label}", route="faq", rate=rate,
                          duration=duration, llm_s=0, tag=tag)
            results.append(r)
            print(r.row(), flush=True)
            print(cpu_line(r), flush=True)
        split, failures = split_check(stack) if replicas else ({}, [])
        return results, split, failures
    finally:
        stack.stop()


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.pipeline.replicas")
    ap.add_argument("--rates", default="20,40", help="FAQ rates (msg/s), run on each stack")
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--port-base", type=int, default=29400)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "replicas.json"))
    ap.add_argument("--redis-server", default=None,
                    help="a redis-server binary instead of the embedded one (make bench: /usr/bin/redis-server)")
    args = ap.parse_args()
    rates = [float(r) for r in args.rates.split(",") if r]
    doc: dict[str, object] = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "args": vars(args)}
    failures: list[str] = []
    for label, replicas, tag in (("one", (), 100), ("two", REPLICATED, 200)):
        state = Path(tempfile.mkdtemp(prefix="bench-replicas-"))
        try:
            results, split, failed = run_stack(state, args.port_base, replicas, rates, args.duration, tag,
                                               args.redis_server)
        finally:
            shutil.rmtree(state, ignore_errors=True)
        doc[label] = {"phases": [asdict(r) for r in results], "split": split}
        failures += failed + [f"{r.name}: {r.lost} lost, {r.duplicated} duplicated"
                              for r in results if r.lost or r.duplicated]
    doc["failures"] = failures
    Path(args.out).write_text(json.dumps(doc, indent=2, default=str))
    print(f"results in {args.out}", flush=True)
    for f in failures:
        print(f"CHECK FAILED: {f}", flush=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
