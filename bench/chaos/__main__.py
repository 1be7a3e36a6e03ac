"""python -m bench.chaos (`make chaos`): exactly one reply per message, in order, while everything breaks.

    .venv/bin/python -m bench.chaos [--messages 10000] [--conversations 1000] [--rate 50] [--kills 2]

The whole stack (as `wapipe up` runs it) on a private port range; `--messages` messages round-robin over
`--conversations` customers (so one customer's messages are conversations/rate seconds apart, inside Meta's
1 msg / 6 s pacing and the 20/min flood limit); 1 in 5 conversations asks the AI, the others FAQ questions.
A `--duplicate` fraction of webhooks is delivered twice; a refused webhook is re-posted until accepted (as Meta
does). During the load every service is SIGKILLed `--kills` times and restarted, the broker is SIGSTOPped for
`--broker-stop` s, Redis (`appendonly yes` as docker compose runs it, or `--redis-persistence none` as the local
stack does) is SIGKILLed once and restarted after `--redis-down` s, and the simulator answers a fraction of sends
with 5xx and 130429.
Then, at the simulator: lost and duplicated replies, order per conversation, and the DLQs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench.chaos.faults import FaultLog, run_faults
from bench.common.check import match
from bench.common.stack import PERSISTENT_REDIS, BenchStack, sim_messages, sim_post
from bench.common.traces import outcomes
from bench.common.webhooks import plan, post_all
from schemas.events import decode_event
from schemas.topics import INBOUND, TOPICS
from tests.support import read_topic

ROOT = Path(__file__).parents[2]


def wait_quiet(sim_url: str, want: int, quiet_s: float, timeout: float) -> list[dict[str, object]]:
    deadline, last_n, changed = time.monotonic() + timeout, -1, time.monotonic()
    while True:
        graph = sim_messages(sim_url)
        if len(graph) != last_n:
            last_n, changed = len(graph), time.monotonic()
        if (len(graph) >= want and time.monotonic() - changed > 5) or time.monotonic() - changed > quiet_s \
                or time.monotonic() > deadline:
            return graph
        time.sleep(2.0)


def dlq_entries(bootstrap: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for t in TOPICS:
        recs = read_topic(bootstrap, t.dlq, timeout=10, idle=2)
        if recs:
            out[t.dlq] = [" ".join(f"{k}={v.decode(errors='replace')[:160]}" for k, v in r.headers.items()
                                   if k.startswith(("error", "x-error", "dlq", "reason", "exception")))
                          or r.value[:200].decode(errors="replace") for r in recs]
    return out


def inbound_order(bootstrap: str) -> dict[str, int]:
    """wamid -> offset of its first record in the inbound topic (one conversation = one partition)."""
    out: dict[str, int] = {}
    for r in read_topic(bootstrap, INBOUND, timeout=60, idle=3):
        ev = decode_event(r.value)
        mid = getattr(ev.payload, "message_id", None)
        if mid and mid not in out:
            out[mid] = r.offset
    return out


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.chaos")
    ap.add_argument("--messages", type=int, default=10000)
    ap.add_argument("--conversations", type=int, default=1000)
    ap.add_argument("--rate", type=float, default=50.0, help="messages/s offered")
    ap.add_argument("--duplicate", type=float, default=0.10, help="fraction of webhooks delivered twice")
    ap.add_argument("--kills", type=int, default=2, help="SIGKILLs per service")
    ap.add_argument("--broker-stop", type=float, default=10.0, help="seconds the broker is SIGSTOPped")
    ap.add_argument("--fault-5xx", type=float, default=0.05, help="fraction of sends answered 503")
    ap.add_argument("--fault-429", type=float, default=0.03, help="fraction of sends answered 130429")
    ap.add_argument("--redis-persistence", choices=("aof", "none"), default="aof",
                    help="aof: appendonly yes, as docker compose runs Redis; none: nothing kept across the kill")
    ap.add_argument("--redis-down", type=float, default=1.0, help="seconds between Redis's SIGKILL and its restart")
    ap.add_argument("--port-base", type=int, default=29500)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "chaos.json"), help="results JSON")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--redis-server", default=None,
                    help="a redis-server binary instead of the embedded one (make bench: /usr/bin/redis-server)")
    args = ap.parse_args()
    state = Path(tempfile.mkdtemp(prefix="bench-chaos-"))
    stack = BenchStack(state, args.port_base,
                       redis_config=PERSISTENT_REDIS if args.redis_persistence == "aof" else ("--appendonly", "no"),
                       redis_server=args.redis_server)
    secret = stack.stack.env["WAPIPE_META_APP_SECRET"]
    per_conv = -(-args.messages // args.conversations)
    msgs = plan(args.conversations, per_conv, "faq", args.rate, 500,
                {c: "ai" for c in range(0, args.conversations, 5)})[:args.messages]
    rng = random.Random(12)
    dup = {m.wamid for m in msgs if rng.random() < args.duplicate}
    log = FaultLog()
    report: dict[str, object] = {"args": vars(args), "duplicated_webhooks": len(dup)}
    try:
        print(f"stack ready in {stack.start():.1f}s (state {state})", flush=True)
        sim_post(stack.sim_url, "/_sim/limits", {"enforce_window": False})
        sim_post(stack.sim_url, "/_sim/faults", {"kind": "5xx", "status": 503, "fraction": args.fault_5xx})
        sim_post(stack.sim_url, "/_sim/faults", {"kind": "code", "code": 130429, "fraction": args.fault_429})
        period = len(msgs) / args.rate
        print(f"{len(msgs)} messages over {args.conversations} conversations at {args.rate:g}/s (~{period:.0f}s), "
              f"{len(dup)} delivered twice", flush=True)
        stop = threading.Event()
        chaos = threading.Thread(target=run_faults, args=(stack, period, args.kills, args.broker_stop, log, stop,
                                                                 args.redis_down))
        t0 = time.time()
        chaos.start()
        try:
            stats = asyncio.run(post_all(stack.ingress_url, secret, msgs, max_conns=128, retry_s=600,
                                         duplicate=dup))
        finally:
            chaos.join()  # the schedule fits in the load period; joining keeps every restart accounted for
        print(f"load done in {time.time() - t0:.0f}s; ingress statuses {stats.statuses}", flush=True)
        httpx.delete(stack.sim_url + "/_sim/faults", timeout=10)
        # Quiet for longer than the sender's slowest recovery: a record retried after Redis failed under it waits
        # out its own earlier claim's lease (60 s) and then the in-doubt grace (15 s) before sending.
        graph = wait_quiet(stack.sim_url, len(msgs), quiet_s=150, timeout=1200)
        print(f"settled {time.time() - t0:.0f}s after start; {len(graph)} messages at the Graph API", flush=True)
        ai_ids = {m.wamid for m in msgs if m.route == "ai"}
        outs = outcomes(state / "wapipe.db", ai_ids)
        coalesced = {cid for cid, o in outs.items() if "coalesced" in o}
        bootstrap = stack.stack.env["WAPIPE_KAFKA_BOOTSTRAP_SERVERS"]
        by_send = match(msgs, graph, excused=coalesced)
        res = match(msgs, graph, excused=coalesced, order=inbound_order(bootstrap))
        dlq = dlq_entries(bootstrap)
        report.update({
            "accepted": sum(1 for m in msgs if m.accepted), "never_accepted": [m.wamid for m in msgs if not m.accepted],
            "answered": res.answered, "coalesced_ai": len(coalesced), "lost": [m.wamid for m in res.lost],
            "duplicated": res.duplicated, "out_of_order_conversations": res.out_of_order,
            "out_of_send_order_conversations": by_send.out_of_order,
            "other_graph_sends": res.other_sends, "dlq": dlq, "faults": log.events,
            "ingress_statuses": stats.statuses, "elapsed_s": time.time() - t0,
        })
        print(f"answered {res.answered}, coalesced AI {len(coalesced)}, LOST {len(res.lost)}, "
              f"DUPLICATED {len(res.duplicated)}, out of order vs pipeline input {len(res.out_of_order)} conversations "
              f"(vs send order {len(by_send.out_of_order)}), "
              f"other sends {res.other_sends}", flush=True)
        print(f"DLQ: {({k: len(v) for k, v in dlq.items()}) or 'empty'}", flush=True)
        for k, v in dlq.items():
            for e in v[:5]:
                print(f"    {k}: {e}", flush=True)
    finally:
        stack.stop()
        Path(args.out).write_text(json.dumps(report, indent=2, default=str))
        if args.keep:
            print(f"state kept in {state}", flush=True)
        else:
            shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
