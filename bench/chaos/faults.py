"""The fault schedule of the chaos run: every service SIGKILLed (and restarted) `kills` times, the broker
SIGSTOPped for `broker_stop_s`, spread evenly over the load period. Runs in a thread beside the load."""

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
    """ingress, guardrails, ai, sender, notifier, broker-stop, then the services again (kills rounds)."""
    out: list[str] = []
    for round_ in range(kills):
        out += list(SERVICES)
        if round_ == 0:
            out.append("broker-stop")
    return out


def run_faults(stack: BenchStack, period_s: float, kills: int, broker_stop_s: float, log: FaultLog,
               stop: threading.Event) -> None:
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
        else:
            stack.kill(step)
            log.add(f"{step} SIGKILL + restart")
