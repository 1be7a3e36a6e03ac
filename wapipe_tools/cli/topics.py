"""`wapipe topics create|list|describe` from the topic registry."""

from __future__ import annotations

import typer
from rich.table import Table

from schemas.topics import TOPICS
from wapipe.kafka import KafkaConnection
from wapipe.settings import CommonSettings
from wapipe.topics import BrokerUnreachable, create_topics, describe_topics, registry_specs
from wapipe_tools.cli.common import console, fail

app = typer.Typer(help="Kafka topics from the registry.", no_args_is_help=True)

BootstrapOpt = typer.Option(None, "--bootstrap", help="broker address (default: WAPIPE_KAFKA_BOOTSTRAP_SERVERS)")
PrefixOpt = typer.Option(None, "--prefix", help="topic name prefix (default: WAPIPE_TOPIC_PREFIX)")


def _target(bootstrap: str | None, prefix: str | None) -> tuple[KafkaConnection, str]:
    s = CommonSettings()
    return s.kafka(bootstrap), s.topic_prefix if prefix is None else prefix


@app.command()
def create(
    bootstrap: str | None = BootstrapOpt,
    prefix: str | None = PrefixOpt,
    partitions: int | None = typer.Option(None, help="override every topic's partition count"),
) -> None:
    """Create every registry topic and its DLQ (idempotent)."""
    addr, pre = _target(bootstrap, prefix)
    try:
        result = create_topics(addr, registry_specs(pre, partitions))
    except BrokerUnreachable as exc:
        fail(str(exc))
    for name, outcome in sorted(result.items()):
        console.print(f"{outcome:8} {name}", highlight=False)


@app.command("list")
def list_(bootstrap: str | None = BootstrapOpt) -> None:
    """List the topics on the broker."""
    addr, _ = _target(bootstrap, "")
    try:
        for name in describe_topics(addr):
            console.print(name, highlight=False)
    except BrokerUnreachable as exc:
        fail(str(exc))


@app.command()
def describe(bootstrap: str | None = BootstrapOpt, prefix: str | None = PrefixOpt) -> None:
    """The registry next to what the broker has."""
    addr, pre = _target(bootstrap, prefix)
    try:
        actual = describe_topics(addr)
    except BrokerUnreachable as exc:
        fail(str(exc))
    table = Table("topic", "partitions (registry)", "on broker", "key", "writers", "readers")
    for t in TOPICS:
        name = pre + t.name
        table.add_row(name, str(t.partitions), str(actual.get(name, "missing")), t.key, ", ".join(t.writers),
                      ", ".join(t.readers))
    console.print(table)
