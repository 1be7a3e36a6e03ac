"""Start the local stack's processes so that none outlives its supervisor.

Each child gets its own session (a Ctrl-C in the terminal reaches only the supervisor, which then stops the
children in order) and, on Linux, PR_SET_PDEATHSIG: the kernel SIGKILLs the child when the thread that started it
dies, even when the supervisor itself was SIGKILLed. The kernel watches the *thread*, so only children started
from the main thread get it (the chaos run restarts services from a helper thread that ends before they should).
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

PR_SET_PDEATHSIG = 1


def _load_prctl() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _load_prctl()


def die_with_parent() -> Callable[[], None] | None:
    """A `preexec_fn` that makes the child die with this thread, or None where that is not possible."""
    prctl = _PRCTL
    if prctl is None or threading.current_thread() is not threading.main_thread():
        return None
    parent = os.getpid()

    def preexec() -> None:  # runs in the child between fork and exec: no allocation-heavy work here
        prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        if os.getppid() != parent:  # the supervisor died before prctl took effect: nobody would stop us
            os._exit(1)

    return preexec


def spawn(argv: Sequence[str], *, env: dict[str, str] | None = None, log: Path | None = None,
          append: bool = False) -> subprocess.Popen[bytes]:
    """Start `argv` in its own session, output to `log` (or nowhere), dying with the calling (main) thread."""
    out: Any = open(log, "ab" if append else "wb") if log else subprocess.DEVNULL  # noqa: SIM115 - the child's
    try:
        return subprocess.Popen(list(argv), env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                preexec_fn=die_with_parent())
    finally:
        if log:
            out.close()
