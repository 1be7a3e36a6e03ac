"""python -m bench.ingress: signed-webhook throughput and latency of one ingress uvicorn worker (real broker,
confirmed publishes) against a bare FastAPI JSON echo, both measured in the same run on the same machine."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common.stack import cpu_seconds
from bench.ingress.loadgen import Result, closed_loop, open_loop
from schemas.meta.signature import webhook_headers
from wapipe.topics import create_topics, registry_specs
from wapipe_tools.local.servers import free_port, start_broker, start_redis, wait_for_port

SECRET = "bench-app-secret-0123456789"
SAMPLE = Path(__file__).parents[2] / "tests" / "data" / "meta" / "v25.0" / "message_text.json"


def webhook_bodies(n: int) -> list[tuple[bytes, dict[str, str]]]:
    """n distinct signed deliveries (distinct wamids), serialised the way Meta does (\\/ and \\u escapes)."""
    doc = json.loads(SAMPLE.read_text())
    msg = doc["entry"][0]["changes"][0]["value"]["messages"][0]
    out = []
    for i in range(n):
        msg["id"] = f"wamid.BENCH{i:08d}"
        body = json.dumps(doc, separators=(",", ":")).replace("/", "\\/").encode()
        out.append((body, webhook_headers(body, SECRET)))
    return out


def serve(args: list[str], env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, *args], env={**os.environ, **env}, stdout=log.open("ab"),
                            stderr=subprocess.STDOUT, start_new_session=True)
    wait_for_port(port, 20)
    return proc


def line(name: str, r: Result, cpu_us: float) -> str:
    return (f"{name:<28} {r.rps:8.0f} req/s  p50 {r.pct(0.5) * 1000:6.2f} ms  p99 {r.pct(0.99) * 1000:6.2f} ms"
            f"  cpu {cpu_us:5.0f} us/req  n={len(r.latencies)} statuses={r.statuses}")


class CpuMeter:
    """CPU microseconds per answered request of one server process over one phase (/proc/<pid>/stat)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._start = 0.0

    def __enter__(self) -> CpuMeter:
        self._start = cpu_seconds(self.pid)
        return self

    def __exit__(self, *exc: object) -> None:
        self.used = cpu_seconds(self.pid) - self._start

    def per_request(self, r: Result) -> float:
        return 1e6 * self.used / max(1, len(r.latencies))


async def measure(args: argparse.Namespace, ingress_port: int, echo_port: int, ingress_pid: int,
                  echo_pid: int) -> None:
    bodies = webhook_bodies(4096)

    def hook(i: int) -> tuple[bytes, dict[str, str]]:
        return bodies[i % len(bodies)]

    def echo(i: int) -> tuple[bytes, dict[str, str]]:
        return bodies[i % len(bodies)][0], {"Content-Type": "application/json"}

    host = "127.0.0.1"
    await closed_loop(host, ingress_port, "/webhook", hook, 8, 1.0)  # warm-up: connections, producer metadata
    await closed_loop(host, echo_port, "/echo", echo, 8, 1.0)
    with CpuMeter(echo_pid) as ec:
        e = await closed_loop(host, echo_port, "/echo", echo, args.workers, args.duration)
    with CpuMeter(ingress_pid) as wc:
        w = await closed_loop(host, ingress_port, "/webhook", hook, args.workers, args.duration)
    print(f"closed loop, {args.workers} connections, {args.duration:g} s each")
    print(line("echo (bare FastAPI)", e, ec.per_request(e)))
    print(line("ingress /webhook (signed)", w, wc.per_request(w)))
    print(f"throughput ratio ingress/echo: {w.rps / e.rps:.2f}x")
    with CpuMeter(echo_pid) as eoc:
        eo = await open_loop(host, echo_port, "/echo", echo, args.rate, args.duration)
    with CpuMeter(ingress_pid) as woc:
        wo = await open_loop(host, ingress_port, "/webhook", hook, args.rate, args.duration)
    print(f"open loop at {args.rate:g} req/s, {args.duration:g} s each")
    print(line("echo (bare FastAPI)", eo, eoc.per_request(eo)))
    print(line("ingress /webhook (signed)", wo, woc.per_request(wo)))
    print(f"p99 ratio ingress/echo: {wo.pct(0.99) / eo.pct(0.99):.2f}x")


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.ingress")
    p.add_argument("--duration", type=float, default=10.0, help="seconds per measured phase")
    p.add_argument("--workers", type=int, default=32, help="closed-loop connections")
    p.add_argument("--rate", type=float, default=1000.0, help="open-loop request rate")
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-ingress-"))
    broker = start_broker(log=tmp / "broker.log")
    redis = start_redis(log=tmp / "redis.log")
    procs: list[subprocess.Popen[bytes]] = []
    try:
        prefix = "bench."
        create_topics(broker.address, registry_specs(prefix))
        ingress_port, echo_port = free_port(), free_port()
        procs.append(serve(["-m", "services.ingress.main"], {
            "WAPIPE_ENV": "dev", "WAPIPE_KAFKA_BOOTSTRAP_SERVERS": broker.address, "WAPIPE_REDIS_URL": f"redis://{redis.address}/0",
            "WAPIPE_TOPIC_PREFIX": prefix, "WAPIPE_META_APP_SECRET": SECRET, "WAPIPE_LOG_LEVEL": "WARNING",
            "WAPIPE_INGRESS_PORT": str(ingress_port), "WAPIPE_INGRESS_METRICS_PORT": str(free_port()),
        }, ingress_port, tmp / "ingress.log"))
        procs.append(serve(["-m", "uvicorn", "bench.ingress.echo:app", "--port", str(echo_port), "--log-level",
                            "warning", "--no-access-log"], {}, echo_port, tmp / "echo.log"))
        asyncio.run(measure(args, ingress_port, echo_port, procs[0].pid, procs[1].pid))
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(15)
        broker.stop()
        redis.stop()


if __name__ == "__main__":
    main()
