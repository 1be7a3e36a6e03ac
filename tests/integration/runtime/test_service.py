"""One startup for every consumer: `run_consumer` opens producer, Redis and store, serves health and metrics, runs
the workers and background tasks until a stop, then drains and closes everything in order; the real services
started by `wapipe run <name>` exit 0 on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis

from schemas.envelope import Envelope
from schemas.events import ReplyRequested
from schemas.topics import INBOUND, OUTBOUND
from tests.integration.runtime.echo_worker import echo
from tests.integration.runtime.inputs import produce
from tests.support import read_topic, unique
from wapipe.runtime import Emit, RecordMeta
from wapipe.runtime.config import WorkerConfig
from wapipe.runtime.service import Resources, Service, run_consumer
from wapipe.runtime.worker import Worker
from wapipe.settings import CommonSettings
from wapipe_tools.local.ports import listening_addresses
from wapipe_tools.local.servers import free_port

ROOT = Path(__file__).resolve().parents[3]


class RecordingWorker(Worker):
    """A real worker that notes when its run (drain and final commit included) has returned."""

    def __init__(self, *args: object, events: list[str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.events = events

    async def run(self) -> None:
        try:
            await super().run()
        finally:
            self.events.append("worker stopped")


class Beside:
    """A background task: runs until stopped, or fails when told to."""

    def __init__(self, events: list[str], fail: asyncio.Event | None = None) -> None:
        self.events = events
        self.fail = fail or asyncio.Event()
        self.running = False
        self._stop = asyncio.Event()

    async def run(self) -> None:
        self.running = True
        stop, fail = asyncio.create_task(self._stop.wait()), asyncio.create_task(self.fail.wait())
        await asyncio.wait([stop, fail], return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        fail.cancel()
        self.running = False
        if self.fail.is_set():
            raise RuntimeError("background task broke")
        self.events.append("background stopped")

    async def stop(self) -> None:
        self._stop.set()


class Wiring:
    """The `build` of a test service: an echo worker that also touches Redis, a background task, two closers."""

    def __init__(self, s: CommonSettings, group_id: str, fail: asyncio.Event | None = None) -> None:
        self.s, self.group_id = s, group_id
        self.events: list[str] = []
        self.beside = Beside(self.events, fail)
        self.resources: Resources | None = None

    def __call__(self, r: Resources) -> Service:
        self.resources = r

        async def handle(event: Envelope, meta: RecordMeta) -> Sequence[Emit]:
            await r.redis.incr(f"wapipe:test:{self.group_id}")
            return echo(event)

        async def closer(name: str) -> None:
            self.events.append(name)

        cfg = WorkerConfig(bootstrap=self.s.kafka(), group_id=self.group_id, topics=(INBOUND,),
                           topic_prefix=self.s.topic_prefix, service="svc")
        worker = RecordingWorker(cfg, handle, producer=r.producer, registry=r.registry, events=self.events)
        return Service("svc", [worker], background=[self.beside],
                       closers=[lambda: closer("first closer"), lambda: closer("second closer")],
                       extra_ready=lambda: self.beside.running)


def _settings(kafka: str, prefix: str, redis_url: str, tmp: Path) -> CommonSettings:
    return CommonSettings(_env_file=None, kafka_bootstrap_servers=kafka, topic_prefix=prefix,  # type: ignore[call-arg]
                          redis_url=redis_url, store_url=f"sqlite:///{tmp}/svc.db")


def _stopped_then_closed(events: list[str]) -> None:
    """Worker and background task stop together (either may finish first); the closers run after both, in order."""
    assert sorted(events[:2]) == ["background stopped", "worker stopped"]
    assert events[2:] == ["first closer", "second closer"]


async def _wait_ready(port: int, task: asyncio.Task[None], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2) as http:
        while True:
            assert not task.done(), f"service ended early: {task.exception() if task.done() else ''}"
            try:
                if (await http.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "service never became ready"
            await asyncio.sleep(0.1)


async def _clients(redis_client: aioredis.Redis) -> int:
    await redis_client.ping()  # the test's own client holds both its connections (pooled and shared) from here
    return len(await redis_client.client_list())


async def _until_clients_back_to(redis_client: aioredis.Redis, baseline: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while await _clients(redis_client) > baseline:
        assert time.monotonic() < deadline, "the service's Redis connections stayed open"
        await asyncio.sleep(0.1)


async def test_serves_until_stopped_then_drains_and_closes_everything_in_order(
        kafka_bootstrap: str, topic_prefix: str, group_id: str, redis_url: str, redis_client: aioredis.Redis,
        tmp_path: Path) -> None:
    wiring = Wiring(_settings(kafka_bootstrap, topic_prefix, redis_url, tmp_path), group_id)
    baseline = await _clients(redis_client)
    port, stop = free_port(), asyncio.Event()
    task = asyncio.create_task(run_consumer(wiring.s, wiring, port=port, host="127.0.0.1", stop=stop,
                                            handle_signals=False))
    await _wait_ready(port, task)
    async with httpx.AsyncClient(timeout=5) as http:
        assert (await http.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200
        events = await asyncio.to_thread(produce, kafka_bootstrap, topic_prefix, unique("r"), 3, 1)
        replies = await asyncio.to_thread(read_topic, kafka_bootstrap, topic_prefix + OUTBOUND, expect=3, timeout=60)
        assert all(isinstance(r.event(), ReplyRequested) for r in replies) and len(replies) == len(events)
        assert int(await redis_client.get(f"wapipe:test:{group_id}") or 0) == 3  # the handler used the Redis given
        assert await _clients(redis_client) > baseline
        metrics = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
        assert 'wapipe_records_total{outcome="ok",service="svc",topic="wa.inbound.v1"} 3.0' in metrics

    stop.set()
    await asyncio.wait_for(task, 60)  # returns normally: the process would exit 0
    _stopped_then_closed(wiring.events)
    await _until_clients_back_to(redis_client, baseline)  # the pool is closed, not just the client
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient(timeout=2) as http:
            await http.get(f"http://127.0.0.1:{port}/healthz")


async def test_a_failing_background_task_stops_the_rest_closes_everything_and_is_raised(
        kafka_bootstrap: str, topic_prefix: str, group_id: str, redis_url: str, redis_client: aioredis.Redis,
        tmp_path: Path) -> None:
    fail = asyncio.Event()
    wiring = Wiring(_settings(kafka_bootstrap, topic_prefix, redis_url, tmp_path), group_id, fail)
    baseline = await _clients(redis_client)
    port = free_port()
    task = asyncio.create_task(run_consumer(wiring.s, wiring, port=port, host="127.0.0.1", handle_signals=False))
    await _wait_ready(port, task)
    fail.set()
    with pytest.raises(RuntimeError, match="background task broke"):
        await asyncio.wait_for(task, 60)
    assert wiring.events == ["worker stopped", "first closer", "second closer"]  # the failed task noted nothing
    await _until_clients_back_to(redis_client, baseline)


async def test_sigterm_stops_the_service_gracefully_and_the_handler_is_removed_afterwards(
        kafka_bootstrap: str, topic_prefix: str, group_id: str, redis_url: str, tmp_path: Path) -> None:
    wiring = Wiring(_settings(kafka_bootstrap, topic_prefix, redis_url, tmp_path), group_id)
    port = free_port()
    task = asyncio.create_task(run_consumer(wiring.s, wiring, port=port, host="127.0.0.1"))
    await _wait_ready(port, task)  # the handler is installed before anything is opened
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.wait_for(task, 60)
    _stopped_then_closed(wiring.events)
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


@pytest.mark.slow
def test_every_consumer_service_exits_0_on_sigterm(kafka_bootstrap: str, topic_prefix: str, redis_url: str,
                                                  tmp_path: Path) -> None:
    """`wapipe run <name>`, what production runs: ready, then SIGTERM, then drained, committed and exit 0. Left to
    their defaults, every listener of each (health and metrics, the notifier's operator API) is on loopback."""
    ports = {name: free_port() for name in ("guardrails", "ai", "sender", "notifier")}
    base = {k: v for k, v in os.environ.items() if not k.startswith("WAPIPE_")}
    api_port = free_port()
    common = {"WAPIPE_ENV": "dev", "WAPIPE_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
              "WAPIPE_TOPIC_PREFIX": topic_prefix, "WAPIPE_REDIS_URL": redis_url,
              "WAPIPE_STORE_URL": f"sqlite:///{tmp_path}/wapipe.db",
              "WAPIPE_TENANTS_DIR": str(ROOT / "config" / "tenants"), "WAPIPE_NOTIFIER_PORT": str(api_port)}
    procs: dict[str, subprocess.Popen[bytes]] = {}
    logs = {name: tmp_path / f"{name}.log" for name in ports}
    try:
        for name, port in ports.items():
            env = {**base, **common, f"WAPIPE_{name.upper()}_METRICS_PORT": str(port),
                   f"WAPIPE_{name.upper()}_CONSUMER_GROUP": unique(f"g-{name}-")}
            with open(logs[name], "wb") as log:
                procs[name] = subprocess.Popen([sys.executable, "-m", "wapipe_tools.cli.main", "run", name],
                                               cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        waiting = set(ports)
        while waiting:
            for name in list(waiting):
                assert procs[name].poll() is None, f"{name} exited: {logs[name].read_text()[-2000:]}"
                try:
                    if httpx.get(f"http://127.0.0.1:{ports[name]}/readyz", timeout=2).status_code == 200:
                        waiting.discard(name)
                except httpx.TransportError:
                    pass
            assert time.monotonic() < deadline, f"not ready: {sorted(waiting)}"
            time.sleep(0.2)
        listening = {name: listening_addresses(proc.pid) for name, proc in procs.items()}
        assert ("127.0.0.1", api_port) in listening["notifier"]
        for name, addresses in listening.items():
            assert ("127.0.0.1", ports[name]) in addresses, (name, addresses)
            assert {host for host, _ in addresses} == {"127.0.0.1"}, (name, addresses)
        for proc in procs.values():
            proc.send_signal(signal.SIGTERM)
        codes = {name: proc.wait(60) for name, proc in procs.items()}
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    for name, code in codes.items():
        text = logs[name].read_text()
        assert code == 0 and "Traceback" not in text, f"{name} exited {code}: {text[-2000:]}"
        assert "SIGTERM: stopping" in text, name
