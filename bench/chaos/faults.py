"""The fault schedule of the chaos run: every service SIGKILLed (and restarted) `kills` times, the broker
SIGSTOPped for `broker_stop_s`, Redis SIGKILLed and restarted once, spread evenly over the load period. Runs in a
thread beside the load."""

from __future__ import annotations

import signal
import threading
import time
from dataclasses import dataclass, field

from bench.common.stack import SERVICES, BenchStack


@dataclass
class FaultLog:
    events: list[tuple[float, str]] = field(default_factory=list)

    def add(self, what: str) -> None:
        self.events.append((time.time(), what))
        print(f"  [{time.strftime('%H:%M:%S')}] {what}", flush=True)


def schedule(kills: int) -> list[str]:
    """ingress, guardrails, ai, sender, notifier, broker-stop, redis-kill, then the services again (kills
    rounds); with no kills, the broker stop and the Redis kill alone."""
    out: list[str] = []
    for round_ in range(max(kills, 1)):
        if round_ < kills:
            out += list(SERVICES)
        if round_ == 0:
            out += ["broker-stop", "redis-kill"]
    return out


def run_faults(stack: BenchStack, period_s: float, kills: int, broker_stop_s: float, log: FaultLog,
               stop: threading.Event, redis_down_s: float = 1.0) -> None:
    steps = schedule(kills)
    gap = period_s / (len(steps) + 1)
    for step in steps:
        if stop.wait(gap):
            return
        if step == "broker-stop":
            stack.broker_signal(signal.SIGSTOP)
            log.add(f"broker SIGSTOP for {broker_stop_s:g}s")
            stop.wait(broker_stop_s)
            stack.broker_signal(signal.SIGCONT)
            log.add("broker SIGCONT")
        elif step == "redis-kill":
            log.add(f"redis SIGKILL; restart in {redis_down_s:g}s")
            stack.kill_redis(redis_down_s)
            log.add("redis restarted")
        else:
            stack.kill(step)
            log.add(f"{step} SIGKILL + restart")
