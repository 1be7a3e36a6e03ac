"""A worker process killed and restarted: no record lost; a graceful stop causes no reprocessing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from schemas.events import ReplyRequested
from schemas.topics import OUTBOUND
from tests.integration.runtime.inputs import produce
from tests.support import read_topic, unique

ROOT = Path(__file__).resolve().parents[3]


def _start(bootstrap: str, prefix: str, group: str, log: Path, **tuning: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "WAPIPE_KAFKA_BOOTSTRAP_SERVERS": bootstrap, "WAPIPE_TOPIC_PREFIX": prefix,
           "ECHO_GROUP": group, "ECHO_LOG": str(log), **tuning}
    return subprocess.Popen([sys.executable, "-m", "tests.integration.runtime.echo_worker"], cwd=ROOT, env=env)


def _processed(log: Path) -> Counter[str]:
    return Counter(log.read_text().split()) if log.exists() else Counter()


def _wait(cond, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.mark.slow
def test_sigkilled_three_times_loses_nothing(kafka_bootstrap: str, topic_prefix: str, group_id: str,
                                              tmp_path: Path) -> None:
    events = produce(kafka_bootstrap, topic_prefix, unique("r"), 1000, 10)
    total = len(events)
    log = tmp_path / "processed.log"
    kills = 0
    while kills < 3:
        proc = _start(kafka_bootstrap, topic_prefix, group_id, log)
        before = sum(_processed(log).values())
        # Let it get going, then kill it mid-stream.
        _wait(lambda b=before, p=proc: sum(_processed(log).values()) > b + 300 or p.poll() is not None, 120,
              "progress")
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills += 1
    proc = _start(kafka_bootstrap, topic_prefix, group_id, log)
    try:
        _wait(lambda: len(_processed(log)) >= total, 180, "every record processed")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0

    outputs = read_topic(kafka_bootstrap, topic_prefix + OUTBOUND, expect=total, timeout=60, idle=2)
    replied = Counter(e.payload.reply_id for e in (r.event() for r in outputs) if isinstance(e, ReplyRequested))
    processed = _processed(log)
    duplicates = sum(n - 1 for n in processed.values())
    print(f"\n{total} records, {kills} SIGKILLs: 0 lost, {duplicates} reprocessed, "
          f"{sum(replied.values()) - len(replied)} duplicate outputs")
    assert set(processed) == {e.correlation_id for e in events}, "a record was lost"
    assert len(replied) == total


@pytest.mark.slow
def test_graceful_stop_and_restart_processes_nothing_twice(kafka_bootstrap: str, topic_prefix: str,
                                                           group_id: str, tmp_path: Path) -> None:
    events = produce(kafka_bootstrap, topic_prefix, unique("r"), 200, 10)
    log = tmp_path / "processed.log"
    # At most 8 records at a time, 30 ms each: however fast the machine, the 2000 take over 7 s, so the stop
    # below lands mid-stream; a slower machine only makes that surer.
    proc = _start(kafka_bootstrap, topic_prefix, group_id, log, ECHO_MAX_IN_FLIGHT="8", ECHO_DELAY_S="0.03")
    _wait(lambda: sum(_processed(log).values()) > 500, 120, "progress")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0
    stopped_at = sum(_processed(log).values())
    assert stopped_at < len(events), "stopped too late to prove anything"

    proc = _start(kafka_bootstrap, topic_prefix, group_id, log)
    try:
        _wait(lambda: len(_processed(log)) >= len(events), 120, "every record processed")
        time.sleep(1)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    processed = _processed(log)
    assert set(processed) == {e.correlation_id for e in events}
    assert max(processed.values()) == 1, "a record was processed twice after a graceful stop"
