"""python -m bench.pipeline.ab: two variants of the stack, measured in turns on one broker, Redis and machine.

    .venv/bin/python -m bench.pipeline.ab --variant WAPIPE_EVENT_LOOP=asyncio --variant WAPIPE_EVENT_LOOP=uvloop \
        [--rates 100] [--duration 10] [--rounds 2]

A variant is environment overrides for every service (`KEY=VALUE,KEY=VALUE`; `PYTHONPATH=<tree>` runs another
checkout of the code, e.g. `git archive <commit> | tar -x -C /tmp/base`, with PYTHONSAFEPATH=1 so that `python -m`
does not import this checkout from the current folder first). Each round restarts the services with
each variant in turn and runs the same FAQ phases, so a busy neighbour slows both alike; the ratio of the
variants' CPU per reply, throughput and p99 is what to quote on a shared machine, not the absolute figures.
Writes bench/results/ab.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common.calibrate import calibration_ms
from bench.common.stack import BenchStack, sim_post
from bench.pipeline.phases import PhaseResult, cpu_line, idle_cpu, run_phase

ROOT = Path(__file__).parents[2]


def parse_variant(text: str) -> dict[str, str]:
    return dict(kv.split("=", 1) for kv in text.split(",") if kv)


def use(stack: BenchStack, base: dict[str, str], variant: dict[str, str]) -> None:
    """Restart every service with `variant` on top of the stack's own environment (after a settle, so nothing
    is left uncommitted to redo)."""
    stack.stack.env.clear()
    stack.stack.env.update({**base, **variant})
    if "PYTHONPATH" in variant:  # `python -m` would put the current folder (this checkout) before PYTHONPATH
        stack.stack.env["PYTHONSAFEPATH"] = "1"
    for c in stack.stack.children:
        if c.spec.name != "simulator":
            stack.kill(c.spec.name)
    stack.wait_ready(180)


def summary(results: list[PhaseResult]) -> dict[str, Any]:
    def med(xs: list[float]) -> float:
        return statistics.median(xs) if xs else float("nan")

    procs = sorted({p for r in results for p in r.cpu_ms_per_reply_net})
    return {"per_process_net": {p: med([r.cpu_ms_per_reply_net[p] for r in results if p in r.cpu_ms_per_reply_net])
                                for p in procs},
            "cpu_ms_per_reply_wapipe": med([r.cpu_ms_per_reply.get("wapipe", float("nan")) for r in results]),
            "cpu_ms_per_reply_wapipe_net": med([r.cpu_ms_per_reply_net.get("wapipe", float("nan")) for r in results]),
            "sustained": med([r.sustained for r in results]), "p99": med([r.p99 for r in results]),
            "lost": sum(r.lost for r in results), "duplicated": sum(r.duplicated for r in results)}


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.pipeline.ab")
    ap.add_argument("--variant", action="append", required=True, help="KEY=VALUE[,KEY=VALUE]; give two or more")
    ap.add_argument("--rates", default="100", help="FAQ rates (msg/s) per variant and round")
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--port-base", type=int, default=29400)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "ab.json"))
    args = ap.parse_args()
    variants = [parse_variant(v) for v in args.variant]
    state = Path(tempfile.mkdtemp(prefix="bench-ab-"))
    stack = BenchStack(state, args.port_base, {"WAPIPE_NUMBER_RATE": "5000", "WAPIPE_NUMBER_BURST": "5000",
                                               "WAPIPE_GRAPH_MAX_CONNECTIONS": "8"})
    base = dict(stack.stack.env)
    secret = base["WAPIPE_META_APP_SECRET"]
    runs: dict[int, list[PhaseResult]] = {i: [] for i in range(len(variants))}
    doc: dict[str, object] = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "args": vars(args)}
    tag = 100
    try:
        doc["calibration_ms"] = calibration_ms()
        print(f"machine: sum(range(10**6)) in {doc['calibration_ms']} ms (less is faster)", flush=True)
        print(f"stack ready in {stack.start():.1f}s (state {state})", flush=True)
        sim_post(stack.sim_url, "/_sim/limits", {"number_rate": 5000, "number_burst": 5000, "enforce_window": False})
        for round_ in range(args.rounds):
            for i, variant in enumerate(variants):
                use(stack, base, variant)
                tag += 1
                run_phase(stack, state / "wapipe.db", secret, name="warm-up", route="faq", rate=20, duration=2,
                          llm_s=0, tag=tag)
                idle = idle_cpu(stack)
                for rate in (float(r) for r in args.rates.split(",") if r):
                    tag += 1
                    r = run_phase(stack, state / "wapipe.db", secret, name=f"r{round_} v{i} faq@{rate:g}",
                                  route="faq", rate=rate, duration=args.duration, llm_s=0, tag=tag, idle=idle)
                    runs[i].append(r)
                    print(f"{r.name:<18} {args.variant[i]:<40} out/s {r.sustained:6.0f} p99 {r.p99 * 1000:7.0f} ms "
                          f"lost {r.lost} dup {r.duplicated}", flush=True)
                    print(cpu_line(r), flush=True)
        sums = [summary(runs[i]) for i in range(len(variants))]
        doc["variants"] = [{"env": args.variant[i], "summary": sums[i],
                            "phases": [{"name": r.name, "cpu_ms_per_reply": r.cpu_ms_per_reply,
                                        "cpu_ms_per_reply_net": r.cpu_ms_per_reply_net,
                                        "sustained": r.sustained, "p99": r.p99, "lost": r.lost,
                                        "duplicated": r.duplicated} for r in runs[i]]} for i in range(len(variants))]
        print("medians over rounds (ratio to the first variant):", flush=True)
        for i, s in enumerate(sums):
            ratio = s["cpu_ms_per_reply_wapipe"] / sums[0]["cpu_ms_per_reply_wapipe"]
            print(f"  {args.variant[i]:<40} cpu_ms_per_reply wapipe {s['cpu_ms_per_reply_wapipe']:.2f} "
                  f"({ratio:.2f}x), net of idle {s['cpu_ms_per_reply_wapipe_net']:.2f}  "
                  f"out/s {s['sustained']:.0f}  p99 {s['p99'] * 1000:.0f} ms  "
                  f"lost {s['lost']:.0f} dup {s['duplicated']:.0f}", flush=True)
            first = sums[0]["per_process_net"]
            print("    net of idle, ms per reply (ratio): " + ", ".join(
                f"{p} {v:.2f} ({v / first[p]:.2f}x)" if first.get(p) else f"{p} {v:.2f}"
                for p, v in s["per_process_net"].items()), flush=True)
    finally:
        stack.stop()
        Path(args.out).write_text(json.dumps(doc, indent=2, default=str))
        print(f"results in {args.out}", flush=True)
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
