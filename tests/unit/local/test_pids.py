"""`stack.pid`: what it lists, telling a live process from a reused pid, and stopping what a stack left behind."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from wapipe_tools.local import pids


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(["sleep", "300"])
    yield proc
    proc.kill()
    proc.wait()


def test_entries_round_trip_and_bad_lines_are_skipped(tmp_path: Path) -> None:
    entries = [pids.Entry("supervisor", 10, 123), pids.Entry("guardrails@s1", 11, None)]
    pids.write(tmp_path, entries)
    assert pids.read(tmp_path) == entries
    (tmp_path / pids.FILE).write_text("12 99 broker\nnot a line\n13 x redis\n\n")
    assert pids.read(tmp_path) == [pids.Entry("broker", 12, 99)]
    assert pids.read(tmp_path / "nowhere") == []


def test_a_live_process_is_alive_until_it_exits(sleeper: subprocess.Popen[bytes]) -> None:
    e = pids.entry("broker", sleeper.pid)
    assert pids.alive(e)
    assert not pids.alive(pids.Entry("broker", sleeper.pid, (e.start or 0) + 1))  # same pid, another process
    sleeper.kill()
    sleeper.wait()
    assert not pids.alive(e)


def test_a_zombie_counts_as_gone(sleeper: subprocess.Popen[bytes]) -> None:
    e = pids.entry("redis", sleeper.pid)
    sleeper.kill()
    assert pids.wait_gone([e], timeout=60)
    assert Path(f"/proc/{sleeper.pid}").exists()  # dead but not reaped yet: a zombie


def test_stop_ends_children_left_by_a_dead_supervisor_and_clears_the_file(
        tmp_path: Path, sleeper: subprocess.Popen[bytes]) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    supervisor = pids.Entry(pids.SUPERVISOR, dead.pid, None)
    child = pids.entry("ingress", sleeper.pid)
    pids.write(tmp_path, [supervisor, child])
    (tmp_path / "stack.json").write_text("{}")
    assert pids.running(tmp_path) == [child]

    assert pids.stop(tmp_path, timeout=30) == [child]
    assert sleeper.wait(30) == -15  # SIGTERM was enough
    assert not (tmp_path / pids.FILE).exists() and not (tmp_path / "stack.json").exists()
    assert pids.stop(tmp_path) == []  # nothing left: nothing to do


def test_stop_never_signals_a_pid_now_used_by_another_program(
        tmp_path: Path, sleeper: subprocess.Popen[bytes]) -> None:
    e = pids.entry("sender", sleeper.pid)
    pids.write(tmp_path, [pids.Entry("sender", e.pid, (e.start or 0) + 1)])
    assert pids.stop(tmp_path, timeout=1) == []
    assert sleeper.poll() is None
