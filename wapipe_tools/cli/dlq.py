"""`wapipe dlq list|show|requeue`: dead-letter topics, what failed and why, and sending records back."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from schemas.topics import RAW_WEBHOOKS, dlq_name
from wapipe.kafka import KafkaConnection
from wapipe.settings import CommonSettings
from wapipe.topics import BrokerUnreachable, describe_topics
from wapipe_tools.cli.common import console, fail
from wapipe_tools.cli.replay import publish_with_progress
from wapipe_tools.replay.reader import Record, Selection, TopicNotFound, read

app = typer.Typer(help="Dead-letter topics: list, show, requeue.", no_args_is_help=True)

BootstrapOpt = Annotated[str | None, typer.Option(help="broker (default: WAPIPE_KAFKA_BOOTSTRAP_SERVERS)")]
DLQ_SUFFIX = ".dlq"
SHOWN_HEADERS = ("dlq.error.class", "dlq.error.message", "dlq.attempts", "dlq.original.topic",
                 "dlq.original.partition", "dlq.original.offset", "dlq.service", "dlq.time", "type", "correlation_id",
                 "webhook.path", "webhook.field")


def _addr(bootstrap: str | None) -> KafkaConnection:
    return CommonSettings().kafka(bootstrap)


def _records(addr: KafkaConnection, topic: str, sel: Selection | None = None) -> list[Record]:
    if not topic.endswith(DLQ_SUFFIX):
        fail(f"{topic} is not a dead-letter topic (name ending in {DLQ_SUFFIX})")
    try:
        return list(read(addr, topic, sel or Selection(), idle_s=1.5))
    except (TopicNotFound, BrokerUnreachable) as exc:
        fail(str(exc))


def original_topic(r: Record) -> str:
    """Where the record failed: its dlq.original.topic header, else the DLQ name without the suffix."""
    return r.header("dlq.original.topic") or r.topic.removesuffix(DLQ_SUFFIX)


@app.command("list")
def list_(
    prefix: Annotated[str, typer.Option(help="only topics starting with this (a sandbox's, say)")] = "",
    bootstrap: BootstrapOpt = None,
) -> None:
    """Every dead-letter topic on the broker with its record count and latest error."""
    addr = _addr(bootstrap)
    try:
        names = [n for n in describe_topics(addr) if n.endswith(DLQ_SUFFIX) and n.startswith(prefix)]
    except BrokerUnreachable as exc:
        fail(str(exc))
    table = Table("topic", "records", "latest error", "service")
    for name in names:
        records = _records(addr, name)
        last = max(records, key=lambda r: r.timestamp_ms, default=None)
        table.add_row(name, str(len(records)), (last.header("dlq.error.class") or "-") if last else "-",
                      (last.header("dlq.service") or "-") if last else "-")
    console.print(table)


@app.command()
def show(
    topic: Annotated[str, typer.Argument(help="dead-letter topic, e.g. wa.inbound.v1.dlq")],
    limit: Annotated[int, typer.Option(min=1, help="show at most this many (newest)")] = 20,
    bootstrap: BootstrapOpt = None,
) -> None:
    """The records of a DLQ with their dlq.* headers (why, where, how many attempts)."""
    records = sorted(_records(_addr(bootstrap), topic), key=lambda r: r.timestamp_ms)[-limit:]
    # One block per record rather than a wide table: error messages are long and terminals are not.
    for r in records:
        console.print(f"[bold]{r.topic} {r.partition}:{r.offset}[/]  key {r.key_text or '-'}", highlight=False)
        for name in SHOWN_HEADERS:
            console.print(f"  {name.removeprefix('dlq.'):18} {r.header(name) or '-'}", highlight=False,
                          soft_wrap=True)
    console.print(f"{len(records)} record(s) shown", highlight=False)


@app.command()
def requeue(
    topic: Annotated[str, typer.Argument(help="dead-letter topic, e.g. wa.inbound.v1.dlq")],
    from_offset: Annotated[int | None, typer.Option(min=0, help="skip records below this offset "
                                                    "(each partition), e.g. ones already requeued")] = None,
    conversation: Annotated[str | None, typer.Option(help="only this conversation key")] = None,
    dry_run: Annotated[bool, typer.Option(help="show what would be requeued, publish nothing")] = False,
    bootstrap: BootstrapOpt = None,
) -> None:
    """Send DLQ records back to the topic they failed on (dlq.* headers dropped, replay.* headers added)."""
    if topic.endswith(dlq_name(RAW_WEBHOOKS)):
        fail(f"{topic} holds parts of webhook bodies, not records of {RAW_WEBHOOKS}: after the fix, run "
             "`wapipe reprocess --since ...` over the raw log (dlq.original.* name each part's body)")
    addr = _addr(bootstrap)
    records = _records(addr, topic, Selection(from_offset=from_offset, conversation=conversation))
    targets = [(r, original_topic(r)) for r in records]
    per_target: dict[str, int] = {}
    for _, t in targets:
        per_target[t] = per_target.get(t, 0) + 1
    if dry_run or not targets:
        for t, n in sorted(per_target.items()):
            console.print(f"would requeue {n} record(s) to {t}", highlight=False)
        console.print(f"{len(targets)} record(s) selected; nothing published", highlight=False)
        return
    sent = publish_with_progress(addr, targets, reason=f"requeue:{topic}", strip=("dlq.",))
    for t, n in sorted(per_target.items()):
        console.print(f"requeued {n} record(s) to {t}", highlight=False)
    # The broker cannot delete them, so they stay in the DLQ: note the offsets to skip next time.
    console.print(f"{sent} record(s) requeued; they remain in {topic} (use --from-offset to skip them later)",
                  highlight=False)
