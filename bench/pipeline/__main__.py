"""python -m bench.pipeline (`make bench`): the whole stack as `wapipe up` runs it, under signed-webhook load.

    .venv/bin/python -m bench.pipeline [--duration 10] [--rates 50,100,200,400] [--max-rate 1000]

Starts broker, Redis, store, simulator and the five services on a private port range (--port-base) with a temp
state folder, then per phase: N conversations x M messages posted open-loop at a fixed rate; latency is ingress
accepted (200) -> the simulator's Graph API recorded the reply (same machine clock). FAQ messages are answered
by guardrails' fixed answers; consult messages go to the AI (coalescing window 1.5 s, model latency 0 or 1 s).
Meta's per-number limit (80 msg/s) is lifted in the sender and the simulator for the run (WAPIPE_NUMBER_RATE),
and the simulator's 24 h window check is off (the load generator posts to ingress directly).
Writes bench/results/pipeline.json and docs/bench-latency.png.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from bench.common.calibrate import calibration_ms
from bench.common.prometheus import Prometheus
from bench.common.stack import SERVICES, BenchStack, paused, rss_mib, sim_post, wait_quiet
from bench.pipeline.baselines import ingress_vs_echo, kafka_loop
from bench.pipeline.coverage import run_coverage
from bench.pipeline.observe import evaluate
from bench.pipeline.phases import HEADER, PhaseResult, cpu_line, idle_cpu, run_phase
from bench.pipeline.plot import plot
from bench.pipeline.topics import topic_loads

ROOT = Path(__file__).parents[2]


def rss_table(stack: BenchStack) -> dict[str, tuple[float, float]]:
    pids = stack.pids()
    return {name: rss_mib(pids[name]) for name in (*SERVICES, "simulator", "broker", "redis")}


def baselines(stack: BenchStack, secret: str, duration: float, echo_port: int, state: Path) -> dict[str, object]:
    doc: dict[str, object] = {}
    kafka = kafka_loop(stack.stack.env["WAPIPE_KAFKA_BOOTSTRAP_SERVERS"], 20000)
    print(f"plain confluent-kafka poll->produce->commit loop: {kafka:.0f} records/s", flush=True)
    doc["kafka_loop_rps"] = kafka
    # Ingress against the echo twice: with the stack processing what ingress accepts (all sharing 2 cores),
    # and with every process but ingress, broker and Redis stopped (what ingress itself can take).
    others = [pid for name, pid in stack.pids().items() if name not in ("ingress", "broker", "redis")]
    for tag, (label, stop) in enumerate((("in_stack", []), ("alone", others))):
        if stop:  # what the stack still holds of the last run is done first: a process stopped in the middle of
            wait_quiet(stack.sim_url, 5.0, 300.0)  # a store write would hold the SQLite lock ingress needs
        with paused(stop):
            echo, hook = ingress_vs_echo(stack.ports.ingress, echo_port, secret, duration, 32,
                                         state / "logs" / "echo.log", tag)
        print(f"[{label}] bare FastAPI echo: {echo.rps:.0f} req/s (p99 {echo.pct(0.99) * 1000:.1f} ms); "
              f"ingress /webhook: {hook.rps:.0f} req/s (p99 {hook.pct(0.99) * 1000:.1f} ms) statuses "
              f"{hook.statuses}; ratio {hook.rps / echo.rps:.2f}x", flush=True)
        doc[f"ingress_vs_echo_{label}"] = {
            "echo": {"rps": echo.rps, "p50": echo.pct(0.5), "p99": echo.pct(0.99)},
            "ingress": {"rps": hook.rps, "p50": hook.pct(0.5), "p99": hook.pct(0.99), "statuses": hook.statuses}}
    return doc


def observability(prom: Prometheus, start: float, doc: dict[str, object]) -> bool:
    """Every dashboard query and rule expression against the Prometheus that scraped the run; prints and records
    the count and each failure (naming the dashboard and panel)."""
    time.sleep(3 * prom.scrape_interval_s)  # the last samples of the run scraped and the rules evaluated
    up = prom.targets_up()
    report = evaluate(prom, start, time.time())
    doc["observability"] = {"targets_up": up, "evaluated": report.evaluated, "panel_queries": report.panel_queries,
                            "rule_expressions": report.rule_expressions,
                            "failures": [{"source": s, "why": w} for s, w in report.failures]}
    down = [n for n, ok in up.items() if not ok]
    print(f"observability: {report.evaluated} queries evaluated ({report.panel_queries} dashboard panel queries, "
          f"{report.rule_expressions} rule expressions); {len(report.failures)} failed; targets down: "
          f"{', '.join(down) or 'none'}", flush=True)
    for source, why in report.failures:
        print(f"    FAIL {source}: {why}", flush=True)
    return report.ok and not down


def broker_load(stack: BenchStack, replies: int) -> dict[str, dict[str, float]]:
    """Records and bytes per reply on each topic over the phases so far (the capacity model's broker figures)."""
    loads = topic_loads(stack.stack.env["WAPIPE_KAFKA_BOOTSTRAP_SERVERS"])
    out = {name: {"records": t.records, "mean_bytes": round(t.mean_bytes), "records_per_reply":
                  round(t.records / replies, 3) if replies else 0.0} for name, t in loads.items()}
    print(f"broker load over {replies} replies (records per reply, mean bytes per record):", flush=True)
    for name, t in out.items():
        print(f"    {name:<28} {t['records_per_reply']:6.2f}  {t['mean_bytes']:6.0f} B", flush=True)
    return out


def rates(text: str) -> list[float]:
    return [float(r) for r in text.split(",") if r.strip()]


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.pipeline")
    ap.add_argument("--duration", type=float, default=10.0, help="seconds of load per phase")
    ap.add_argument("--rates", default="50,100,200,400", help="fixed rates (msg/s) for the FAQ path, model 0 ms")
    ap.add_argument("--ai-rates", default="50,200", help="fixed rates for the AI path (model 0 ms and 1 s)")
    ap.add_argument("--max-rate", type=float, default=1000.0,
                    help="offered rate of the saturation phase (0: no saturation phase)")
    ap.add_argument("--port-base", type=int, default=29400, help="first of ~30 consecutive private ports")
    ap.add_argument("--graph-connections", type=int, default=8,
                    help="the sender's WAPIPE_GRAPH_MAX_CONNECTIONS: the simulator answers in ~1 ms, so a few "
                         "connections carry the load (production sizes it for Meta's latency)")
    ap.add_argument("--keep", action="store_true", help="keep the temp state folder (logs, SQLite)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "pipeline.json"), help="results JSON")
    ap.add_argument("--no-prometheus", action="store_true",
                    help="no Prometheus beside the stack (skips the dashboard and rule check)")
    ap.add_argument("--no-coverage", action="store_true",
                    help="skip the edge traffic (faults, handoffs, floods...) posted before the dashboard check")
    ap.add_argument("--no-baselines", action="store_true",
                    help="skip the Kafka loop, the ingress-vs-echo runs and the latency plot (quick comparisons)")
    ap.add_argument("--redis-server", default=None,
                    help="a redis-server binary instead of the embedded one (make bench: /usr/bin/redis-server)")
    args = ap.parse_args()
    state = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    stack = BenchStack(state, args.port_base, {"WAPIPE_NUMBER_RATE": "5000", "WAPIPE_NUMBER_BURST": "5000",
                                               "WAPIPE_GRAPH_MAX_CONNECTIONS": str(args.graph_connections)},
                       redis_server=args.redis_server)
    secret = stack.stack.env["WAPIPE_META_APP_SECRET"]
    db = state / "wapipe.db"
    results: list[PhaseResult] = []
    doc: dict[str, object] = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "args": vars(args)}
    prom = None if args.no_prometheus else Prometheus(state / "prometheus", args.port_base + 25,
                                                      stack.metrics_targets())
    check_ok = True
    try:
        doc["calibration_ms"] = calibration_ms()
        print(f"machine: sum(range(10**6)) in {doc['calibration_ms']} ms (less is faster)", flush=True)
        print(f"stack ready in {stack.start():.1f}s (state {state})", flush=True)
        if prom is not None:
            prom.start()
            print(f"prometheus on {prom.url} scraping {', '.join(prom.targets)}", flush=True)
        t_start = time.time()
        sim_post(stack.sim_url, "/_sim/limits", {"number_rate": 5000, "number_burst": 5000,
                                                 "enforce_window": False})
        doc["rss_idle"] = rss_table(stack)
        warm = run_phase(stack, db, secret, name="warm-up", route="faq", rate=20, duration=2, llm_s=0, tag=1)
        time.sleep(5)
        idle = idle_cpu(stack)
        idle_pct = {n: round(100 * v, 1) for n, v in idle.items()}
        doc["idle_cpu_pct"] = idle_pct
        print("idle cpu % of a core: " + ", ".join(f"{k} {v:.1f}" for k, v in idle_pct.items()), flush=True)
        tag = 10
        plan_: list[tuple[str, str, float, float]] = [(f"faq@{r:g}", "faq", float(r), 0.0)
                                                       for r in rates(args.rates)]
        for llm in (0.0, 1.0):
            plan_ += [(f"ai@{r:g} model {llm:g}s", "ai", float(r), llm) for r in rates(args.ai_rates)]
        if args.max_rate:
            plan_.append((f"faq max (offered {args.max_rate:g})", "faq", args.max_rate, 0.0))
        print(HEADER, flush=True)
        for name, route, rate, llm in plan_:
            tag += 1
            r = run_phase(stack, db, secret, name=name, route=route, rate=rate, duration=args.duration, llm_s=llm,
                          tag=tag, idle=idle)
            results.append(r)
            print(r.row(), flush=True)
            print("    cpu % of a core: " + ", ".join(f"{k} {v:.0f}" for k, v in r.cpu.items()), flush=True)
            print(cpu_line(r), flush=True)
            for stage, (p50, p99) in r.stages.items():
                print(f"    stage {stage:<12} p50 {p50 * 1000:7.1f} ms  p99 {p99 * 1000:7.1f} ms", flush=True)
        doc["cpu_ms_per_reply"] = {r.name: r.cpu_ms_per_reply for r in results}
        print("cpu_ms_per_reply (wapipe = ours; broker and simulator apart):", flush=True)
        for r in results:
            print(f"  {r.name:<22}{cpu_line(r)[len('    cpu_ms_per_reply:'):]}", flush=True)
        doc["rss_after_load"] = rss_table(stack)
        print("RSS MiB (now / peak):", flush=True)
        for name, (cur, peak) in doc["rss_after_load"].items():  # type: ignore[attr-defined]
            print(f"    {name:<10} {cur:6.0f} / {peak:6.0f}", flush=True)
        doc["phases"] = [asdict(r) for r in results]
        doc["topics"] = broker_load(stack, warm.answered + sum(r.answered for r in results))
        if not args.no_baselines:
            doc.update(baselines(stack, secret, args.duration, args.port_base + 29, state))
        time.sleep(3)
        doc["rss_end"] = rss_table(stack)
        if prom is not None:
            if not args.no_coverage:
                doc["coverage_statuses"] = run_coverage(stack, secret, 90)
            check_ok = observability(prom, t_start, doc)
    finally:
        if prom is not None:
            prom.stop()
        stack.stop()
        out = Path(args.out)
        out.write_text(json.dumps(doc, indent=2, default=str))
        if results and not args.no_baselines:
            plot(results, ROOT / "docs" / "bench-latency.png")
        print(f"results in {out}", flush=True)
        if args.keep:
            print(f"state kept in {state}", flush=True)
        else:
            shutil.rmtree(state, ignore_errors=True)
    if not check_ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
