"""Ceilings measured in the same run: a bare FastAPI echo (what one uvicorn worker can accept at all) next to the
stack's ingress, and a plain confluent-kafka poll loop (what one process can move through the broker)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from bench.common.webhooks import webhook
from bench.ingress.loadgen import Result, closed_loop
from bench.runtime.__main__ import fresh, plain_loop
from wapipe_tools.local.servers import wait_for_port


def ingress_vs_echo(ingress_port: int, echo_port: int, secret: str, duration: float, workers: int,
                    log: Path, tag: int = 0) -> tuple[Result, Result]:
    """Closed loop against the echo and the stack's /webhook with distinct signed bodies (fresh ids per `tag`).
    Whatever of the stack is running processes what ingress accepts, on the same 2 cores."""
    echo = subprocess.Popen([sys.executable, "-m", "uvicorn", "bench.ingress.echo:app", "--port", str(echo_port),
                             "--log-level", "warning", "--no-access-log"], stdout=log.open("ab"),
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for_port(echo_port, 20)
        bodies = [webhook(f"579{tag:02d}{i:07d}", f"wamid.ECHO{tag:02d}{i:08d}", "¿tienen catálogo?", secret)
                  for i in range(8192)]

        def hook(i: int) -> tuple[bytes, dict[str, str]]:
            return bodies[i % len(bodies)]

        def plain(i: int) -> tuple[bytes, dict[str, str]]:
            return bodies[i % len(bodies)][0], {"Content-Type": "application/json"}

        async def run() -> tuple[Result, Result]:
            await closed_loop("127.0.0.1", echo_port, "/echo", plain, 8, 1.0)
            e = await closed_loop("127.0.0.1", echo_port, "/echo", plain, workers, duration)
            w = await closed_loop("127.0.0.1", ingress_port, "/webhook", hook, workers, duration)
            return e, w

        return asyncio.run(run())
    finally:
        echo.terminate()
        echo.wait(10)


def kafka_loop(bootstrap: str, records: int, keys: int = 1000) -> float:
    """records/s of poll -> produce -> commit, one record at a time, on the stack's broker."""
    n = (records // keys) * keys
    return plain_loop(bootstrap, fresh(bootstrap, n, keys), n, 0, 60)
