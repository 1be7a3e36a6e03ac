"""`wapipe run <service>`: the one command that starts a service, locally (`wapipe up`) and in production."""

from __future__ import annotations

import importlib
from enum import StrEnum
from typing import Annotated

import typer

from wapipe_tools.cli.common import fail


class Service(StrEnum):
    ingress = "ingress"
    guardrails = "guardrails"
    ai = "ai"
    sender = "sender"
    notifier = "notifier"
    media = "media"
    console = "console"


SERVICES: tuple[str, ...] = tuple(s.value for s in Service)


def run(service: Annotated[Service, typer.Argument(help="the service to run", case_sensitive=False)]) -> None:
    """Run one service in the foreground (settings from WAPIPE_* environment variables and .env)."""
    # Imported here, not at module level: `wapipe --help` must not pay for (or fail on) every service's imports.
    name = f"services.{service.value}.main"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:  # a missing dependency deeper down: let its own traceback speak
            raise
        fail(f"{name} is not installed in this environment")
    module.main()
