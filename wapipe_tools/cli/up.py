"""`wapipe up` (what `make up` runs): the whole local stack in one command, with a live status table."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.live import Live
from rich.table import Table

from wapipe_tools.cli.common import console, fail
from wapipe_tools.local.stack import REDIS_PORT, Child, PortTaken, Stack, local_specs
from wapipe_tools.local.tour import TOUR
from wapipe_tools.replay.sandbox import ensure_topics, sandbox_specs

EXIT_NOT_READY = 1


def status_table(children: list[Child]) -> Table:
    table = Table("service", "pid", "state", "msg/s", "messages", "errors", title="wapipe local stack")
    for c in children:
        state = c.state
        style = "green" if state == "ready" else "yellow" if state == "starting" else "red"
        table.add_row(c.spec.name, str(c.process.pid), f"[{style}]{state}[/]", f"{c.rate:.1f}",
                      f"{c.counts.messages:.0f}", f"{c.counts.errors:.0f}")
    return table


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _wait_ready(stack: Stack, timeout: float, plain: bool) -> None:
    deadline = time.monotonic() + timeout
    announced: set[str] = set()
    while True:
        for c in stack.poll():
            if plain and c.ready and c.spec.name not in announced:
                announced.add(c.spec.name)
                console.print(f"{c.spec.name:10} ready  pid {c.process.pid}", highlight=False)
        if stack.all_ready():
            return
        dead = stack.exited()
        if dead:
            c = dead[0]
            fail(f"{c.spec.name} {c.state} while starting; see {stack.logs / (c.spec.name + '.log')}", EXIT_NOT_READY)
        if time.monotonic() > deadline:
            waiting = ", ".join(c.spec.name for c in stack.children if not c.ready)
            fail(f"not ready after {timeout:.0f}s: {waiting}; logs in {stack.logs}", EXIT_NOT_READY)
        time.sleep(0.3)


def _watch(stack: Stack, live: bool) -> None:
    if live:
        with Live(status_table(stack.poll()), console=console, refresh_per_second=2) as view:
            while True:
                time.sleep(1.0)
                view.update(status_table(stack.poll()))
    reported: set[str] = set()
    while True:
        time.sleep(1.0)
        for c in stack.exited():
            if c.spec.name not in reported:
                reported.add(c.spec.name)
                console.print(f"{c.spec.name} {c.state}; see {stack.logs / (c.spec.name + '.log')}",
                              highlight=False)


def up(
    state_dir: Annotated[Path, typer.Option(help="state folder: SQLite store, logs, stack.json")] = Path(".wapipe"),
    live: Annotated[bool, typer.Option(help="live status table (off when stdout is not a terminal)")] = True,
    timeout: Annotated[float, typer.Option(help="seconds to wait for every service to be ready")] = 90.0,
    without: Annotated[list[str] | None, typer.Option(help="leave this service out (repeatable)")] = None,
    sandbox: Annotated[list[str] | None, typer.Option(help="also serve this replay sandbox (repeatable)")] = None,
) -> None:
    """Start broker, Redis, topics, store, simulator and the five services; Ctrl-C stops everything."""
    live = live and console.is_terminal
    specs = local_specs()
    unknown = set(without or ()) - {s.name for s in specs}
    if unknown:
        fail(f"unknown service for --without: {', '.join(sorted(unknown))}")
    specs = [s for s in specs if s.name not in set(without or ())]
    try:
        for i, name in enumerate(sandbox or ()):
            specs += sandbox_specs(name, i, state_dir, REDIS_PORT)
    except ValueError as exc:
        fail(str(exc))
    stack = Stack(state_dir, specs)
    try:
        stack.check_ports()
    except PortTaken as exc:
        fail(str(exc))
    signal.signal(signal.SIGTERM, _interrupt)
    started = time.monotonic()
    try:
        console.print(f"starting broker :{stack.broker_port}, redis :{stack.redis_port}, topics, store "
                      f"({state_dir}/wapipe.db)", highlight=False)
        stack.start_infra()
        for name in sandbox or ():
            ensure_topics(f"127.0.0.1:{stack.broker_port}", name)
        stack.start_services()
        _wait_ready(stack, timeout, plain=not live)
        console.print(f"[bold green]stack ready[/] in {time.monotonic() - started:.1f}s; logs in {stack.logs}")
        console.print(TOUR, highlight=False)
        _watch(stack, live)
    except KeyboardInterrupt:
        pass
    finally:
        # A second Ctrl-C must not leave orphans behind: ignore signals while children drain.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        console.print("stopping...")
        stack.stop()
        console.print("stopped")
