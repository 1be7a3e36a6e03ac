"""`<state>/stack.pid`: the supervisor and every process it started, one `pid start name` line each, so that
`wapipe down` can stop a stack left behind and `wapipe up` can tell that one still runs.

`start` is the process's start time (/proc/<pid>/stat, clock ticks since boot): a pid the system has since given to
another program has another start time, so a stale file never gets an unrelated process signalled.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from wapipe_tools.local.ready import NotReady, wait_until

FILE = "stack.pid"
SUPERVISOR = "supervisor"
INFRA = frozenset({"broker", "redis"})


@dataclass(frozen=True)
class Entry:
    name: str
    pid: int
    start: int | None  # None where /proc is not available

    def line(self) -> str:
        return f"{self.pid} {'-' if self.start is None else self.start} {self.name}"


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()  # fields from the 3rd (state) on; the command name may hold spaces


def start_time(pid: int) -> int | None:
    fields = _stat(pid)
    return int(fields[19]) if fields else None  # field 22, starttime


def entry(name: str, pid: int) -> Entry:
    return Entry(name, pid, start_time(pid))


def alive(e: Entry) -> bool:
    """The same process still runs (a zombie waiting for its parent to reap it counts as gone)."""
    fields = _stat(e.pid)
    if fields is not None:
        return fields[0] != "Z" and (e.start is None or int(fields[19]) == e.start)
    if Path("/proc/self/stat").exists():  # /proc is there but not this pid: gone
        return False
    try:  # no /proc (macOS): the pid exists, which is the best we can tell
        os.kill(e.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write(state: Path, entries: Iterable[Entry]) -> None:
    path = state / FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(e.line() + "\n" for e in entries))
    tmp.replace(path)  # readers never see half a file


def read(state: Path) -> list[Entry]:
    try:
        lines = (state / FILE).read_text().splitlines()
    except OSError:
        return []
    out = []
    for line in lines:
        parts = line.split(maxsplit=2)
        if len(parts) == 3 and parts[0].isdigit() and (parts[1].isdigit() or parts[1] == "-"):
            out.append(Entry(parts[2], int(parts[0]), None if parts[1] == "-" else int(parts[1])))
    return out


def running(state: Path) -> list[Entry]:
    """What the pid file lists and still runs."""
    return [e for e in read(state) if alive(e)]


def clear(state: Path) -> None:
    (state / FILE).unlink(missing_ok=True)
    (state / "stack.json").unlink(missing_ok=True)


def _signal(entries: Iterable[Entry], sig: signal.Signals) -> None:
    for e in entries:
        if alive(e):
            try:
                os.kill(e.pid, sig)
            except ProcessLookupError:
                pass


def wait_gone(entries: list[Entry], timeout: float) -> bool:
    """Whether every one of `entries` exited within `timeout` seconds."""
    try:
        wait_until(lambda: not any(alive(e) for e in entries), timeout=timeout, what="processes to exit",
                   interval=0.1)
    except NotReady:
        return False
    return True


def _terminate(entries: list[Entry], timeout: float) -> None:
    _signal(entries, signal.SIGTERM)
    if not wait_gone(entries, timeout):
        _signal(entries, signal.SIGKILL)
        wait_gone(entries, 5.0)


def stop(state: Path, timeout: float = 30.0) -> list[Entry]:
    """Stop the stack `state` describes; returns what was still running (empty: nothing to do).

    The supervisor gets SIGTERM first: it stops its children in order, as on Ctrl-C. Whatever is left after that
    (children of a supervisor that was SIGKILLed where PR_SET_PDEATHSIG is missing) gets SIGTERM, the services
    before the broker and Redis they drain into, and SIGKILL after `timeout`. The pid file is cleared either way.
    """
    found = running(state)
    supervisor = [e for e in found if e.name == SUPERVISOR]
    if supervisor:
        _terminate(supervisor, timeout)
    left = [e for e in found if e.name != SUPERVISOR and alive(e)]
    services = [e for e in left if e.name not in INFRA]
    if services:
        _terminate(services, timeout)
    infra = [e for e in left if e.name in INFRA]
    if infra:
        _terminate(infra, timeout)
    clear(state)
    return found
