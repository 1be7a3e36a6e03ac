"""Replay sandboxes: a prefixed copy of the pipeline's topics (`sandbox.<name>.wa.inbound.v1`, ...) served by its
own media stage, guardrails, ai and sender, whose sender records instead of calling the Graph API.

A sandbox keeps its decisions apart from the real ones: its own consumer groups, Redis database (so dedupe does
not drop the replayed messages) and SQLite store (`<state>/sandbox-<name>.db`), which `wapipe replay diff` reads.
"""

from __future__ import annotations

import re
from pathlib import Path

from schemas.topics import TOPICS
from wapipe.kafka import Broker
from wapipe.topics import create_topics, registry_specs
from wapipe_tools.local.servers import free_port
from wapipe_tools.local.stack import ServiceSpec, wapipe_argv

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,30}$")
SERVICES = ("media", "guardrails", "ai", "sender")
MAX_SANDBOXES = 15  # Redis databases 1..15; 0 is the real pipeline's


def check_name(name: str) -> str:
    if not NAME_RE.match(name):
        raise ValueError(f"invalid sandbox name {name!r}: use 1-31 lowercase letters, digits, '-' or '_'")
    return name


def prefix(name: str) -> str:
    return f"sandbox.{check_name(name)}."


def target(name: str, topic: str) -> str:
    """The sandbox copy of a pipeline topic; the source may carry a prefix of its own (`t1.wa.inbound.v1`)."""
    for t in TOPICS:
        for registry_name in (t.name, t.dlq):
            if topic == registry_name or topic.endswith("." + registry_name):
                return prefix(name) + registry_name
    raise ValueError(f"{topic} is not a pipeline topic; a sandbox only has copies of the registry's topics")


def store_url(state: Path, name: str) -> str:
    return f"sqlite:///{(state / f'sandbox-{check_name(name)}.db').resolve()}"


def ensure_topics(broker: Broker, name: str) -> None:
    create_topics(broker, registry_specs(prefix(name)), timeout_s=15)


def sandbox_specs(name: str, index: int, state: Path, redis_port: int) -> list[ServiceSpec]:
    """The four processes that serve sandbox `name` (the index picks its Redis database)."""
    if not 0 <= index < MAX_SANDBOXES:
        raise ValueError(f"at most {MAX_SANDBOXES} sandboxes at once")
    common = {
        "WAPIPE_TOPIC_PREFIX": prefix(name),
        "WAPIPE_STORE_URL": store_url(state, name),
        "WAPIPE_REDIS_URL": f"redis://127.0.0.1:{redis_port}/{index + 1}",
        "WAPIPE_SENDER_DRY_RUN": "true",
    }
    specs = []
    for service in SERVICES:
        port = free_port()
        env = {**common, f"WAPIPE_{service.upper()}_CONSUMER_GROUP": f"wapipe-sandbox-{name}-{service}",
               f"WAPIPE_{service.upper()}_METRICS_PORT": str(port)}
        specs.append(ServiceSpec(f"{service}@{name}", wapipe_argv("run", service), (port,),
                                 f"http://127.0.0.1:{port}/readyz", f"http://127.0.0.1:{port}/metrics",
                                 tuple(env.items())))
    return specs
