"""`wapipe down`: stop a local stack that is still running (another terminal's `wapipe up`, or one left behind)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wapipe_tools.cli.common import console
from wapipe_tools.local import pids


def down(
    state_dir: Annotated[Path, typer.Option(help="the stack's state folder (its stack.pid)")] = Path(".wapipe"),
    timeout: Annotated[float, typer.Option(help="seconds to wait for an orderly stop before SIGKILL")] = 30.0,
) -> None:
    """Stop the stack `wapipe up` started from this state folder: SIGTERM, wait, then SIGKILL. Exit 0 when none runs."""
    stopped = pids.stop(state_dir, timeout)
    if not stopped:
        console.print(f"no stack running from {state_dir}", highlight=False)
        return
    names = ", ".join(f"{e.name} ({e.pid})" for e in stopped)
    console.print(f"stopped {len(stopped)} processes: {names}", highlight=False, soft_wrap=True)
