"""`wapipe up` (what `make up` runs): the whole local stack in one command, with a live status table.

SIGINT (Ctrl-C), SIGTERM and SIGHUP (the terminal closed, the SSH session dropped) all stop the stack the same
way: every service drains, then Redis and the broker. Should the supervisor be SIGKILLed, its children die with it
(see `wapipe_tools.local.spawn`); `<state>/stack.pid` lets `wapipe down` stop anything left all the same.
"""

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
from wapipe_tools.local import pids
from wapipe_tools.local.ports import LOCAL_PORTS, StackPorts
from wapipe_tools.local.ready import NotReady
from wapipe_tools.local.stack import Child, PortTaken, Stack, local_specs
from wapipe_tools.local.tour import tour
from wapipe_tools.replay.sandbox import ensure_topics, sandbox_specs

EXIT_NOT_READY = 1
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def status_table(children: list[Child]) -> Table:
    table = Table("service", "pid", "state", "msg/s", "messages", "errors", title="wapipe local stack")
    for c in children:
        state = c.state
        style = "green" if state == "ready" else "yellow" if state == "starting" else "red"
        table.add_row(c.spec.name, str(c.process.pid), f"[{style}]{state}[/]", f"{c.rate:.1f}",
                      f"{c.counts.messages:.0f}", f"{c.counts.errors:.0f}")
    return table


class _StopOnSignal:
    """The first stop signal unwinds the supervisor like Ctrl-C; later ones are ignored, so a second Ctrl-C (or a
    SIGTERM after the SIGHUP) cannot cut the orderly stop short and leave children behind."""

    def __init__(self) -> None:
        self.received: int | None = None

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if self.received is None:
            self.received = signum
            raise KeyboardInterrupt


def _say(message: str) -> None:
    """Print, unless the terminal is gone (after SIGHUP): stopping the stack matters more than saying so."""
    try:
        console.print(message, highlight=False)
    except OSError:
        pass


def _running_elsewhere(state_dir: Path) -> str | None:
    found = pids.running(state_dir)
    if not found:
        return None
    e = next((e for e in found if e.name == pids.SUPERVISOR), found[0])
    down = "wapipe down" if state_dir == Path(".wapipe") else f"wapipe down --state-dir {state_dir}"
    return f"a stack is already running from {state_dir} ({e.name} pid {e.pid}); stop it with `{down}`"


def _wait_ready(stack: Stack, timeout: float, plain: bool) -> None:
    announced: set[str] = set()

    def announce(children: list[Child]) -> None:
        for c in children:
            if plain and c.ready and c.spec.name not in announced:
                announced.add(c.spec.name)
                console.print(f"{c.spec.name:10} ready  pid {c.process.pid}", highlight=False)

    try:
        stack.wait_ready(timeout, on_poll=announce)
    except NotReady as exc:
        fail(str(exc), EXIT_NOT_READY)


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
                _say(f"{c.spec.name} {c.state}; see {stack.logs / (c.spec.name + '.log')}")


def up(
    state_dir: Annotated[Path, typer.Option(help="state folder: SQLite store, logs, stack.json, stack.pid")] = Path(
        ".wapipe"),
    live: Annotated[bool, typer.Option(help="live status table (off when stdout is not a terminal)")] = True,
    timeout: Annotated[float, typer.Option(help="seconds to wait for every service to be ready")] = 90.0,
    without: Annotated[list[str] | None, typer.Option(help="leave this service out (repeatable)")] = None,
    sandbox: Annotated[list[str] | None, typer.Option(help="also serve this replay sandbox (repeatable)")] = None,
    port_base: Annotated[int | None, typer.Option(help="move every port into BASE..BASE+29 (a second stack beside "
                                                       "one on the default ports)")] = None,
) -> None:
    """Start broker, Redis, topics, store, simulator, the six services and the console; Ctrl-C stops everything."""
    live = live and console.is_terminal
    ports = LOCAL_PORTS if port_base is None else StackPorts.from_base(port_base)
    running = _running_elsewhere(state_dir)
    if running:
        fail(running)
    specs = local_specs(ports)
    unknown = set(without or ()) - {s.name for s in specs}
    if unknown:
        fail(f"unknown service for --without: {', '.join(sorted(unknown))}")
    specs = [s for s in specs if s.name not in set(without or ())]
    try:
        for i, name in enumerate(sandbox or ()):
            specs += sandbox_specs(name, i, state_dir, ports.redis)
    except ValueError as exc:
        fail(str(exc))
    stack = Stack(state_dir, specs, ports=ports)
    try:
        stack.check_ports()
    except PortTaken as exc:
        fail(str(exc))
    stop = _StopOnSignal()
    for sig in STOP_SIGNALS:
        signal.signal(sig, stop)
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
        dev_operator = (stack.env.get("WAPIPE_CONSOLE_DEV_OPERATOR", ""),
                        stack.env.get("WAPIPE_CONSOLE_DEV_PASSWORD", ""))
        console.print(tour(ports, dev_operator), highlight=False, soft_wrap=True)
        _watch(stack, live)
    except KeyboardInterrupt:
        pass
    finally:
        stop.received = stop.received or signal.SIGINT  # from here on every stop signal is ignored
        _say("stopping...")
        stack.stop()
        _say("stopped")
