"""`wapipe replay`: re-publish a slice of a topic into another topic or a sandbox; `wapipe replay diff`."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from wapipe.kafka import Broker
from wapipe.settings import CommonSettings
from wapipe.topics import BrokerUnreachable
from wapipe_tools.cli.common import console, fail
from wapipe_tools.replay import sandbox as sandboxes
from wapipe_tools.replay.publish import republish
from wapipe_tools.replay.reader import Record, Selection, TopicNotFound, partitions_of, read

app = typer.Typer(help="Replay records into a topic or a sandbox copy of the pipeline.")

DEMO_TENANT = "100000000000001"
_RELATIVE = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}

BootstrapOpt = Annotated[str | None, typer.Option(help="broker (default: WAPIPE_KAFKA_BOOTSTRAP_SERVERS)")]


def parse_time(text: str, now: datetime | None = None) -> int:
    """ISO 8601 (naive = UTC) or an age like 15m, 2h, 1d -> epoch milliseconds."""
    m = _RELATIVE.match(text.strip())
    if m:
        moment = (now or datetime.now(UTC)) - timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})
    else:
        try:
            moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"invalid time {text!r}: use ISO 8601 (2026-05-01T10:00:00Z) or an age (15m, 2h, 1d)")\
                from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def publish_with_progress(broker: Broker, items: list[tuple[Record, str]], reason: str,
                          strip: tuple[str, ...] = ()) -> int:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=not console.is_terminal) as progress:
        task = progress.add_task("publishing", total=len(items))
        return asyncio.run(republish(broker, items, reason=reason, strip=strip,
                                     on_done=lambda n: progress.advance(task, n)))


def summary(title: str, rows: list[tuple[str, str]]) -> None:
    table = Table(title=title, show_header=False)
    for k, v in rows:
        table.add_row(k, v)
    console.print(table)


@app.callback(invoke_without_command=True)
def replay(
    ctx: typer.Context,
    topic: Annotated[str | None, typer.Option(help="source topic (full name)")] = None,
    from_offset: Annotated[int | None, typer.Option(min=0, help="start at this offset in every partition")] = None,
    since: Annotated[str | None, typer.Option(help="records at or after this time (ISO 8601 or 15m/2h/1d)")] = None,
    until: Annotated[str | None, typer.Option(help="records before this time")] = None,
    conversation: Annotated[str | None, typer.Option(help="only this conversation key (phone_number_id:user)")]
    = None,
    to: Annotated[str | None, typer.Option(help="target topic (full name)")] = None,
    sandbox: Annotated[str | None, typer.Option(help="target sandbox: sandbox.<NAME>.<topic>")] = None,
    dry_run: Annotated[bool, typer.Option(help="select and count, publish nothing")] = False,
    bootstrap: BootstrapOpt = None,
) -> None:
    """Seek (offset, or time where the broker can), filter on record timestamps, re-publish with replay headers."""
    if ctx.invoked_subcommand:
        return
    if not topic:
        fail("give --topic (and --to TOPIC or --sandbox NAME); see wapipe replay --help")
    if from_offset is not None and since is not None:
        fail("give --from-offset or --since, not both")
    if (to is None) == (sandbox is None):
        fail("give exactly one of --to TOPIC or --sandbox NAME")
    try:
        sel = Selection(from_offset=from_offset, since_ms=parse_time(since) if since else None,
                        until_ms=parse_time(until) if until else None, conversation=conversation)
        target = to if to is not None else sandboxes.target(sandbox or "", topic)
    except ValueError as exc:
        fail(str(exc))
    if sel.since_ms is not None and sel.until_ms is not None and sel.until_ms <= sel.since_ms:
        fail("--until must be after --since")
    addr = CommonSettings().kafka(bootstrap)
    try:
        partitions_of(addr, topic)
        if sandbox is not None and not dry_run:
            sandboxes.ensure_topics(addr, sandbox)
        elif to is not None:
            partitions_of(addr, to)
        with console.status(f"reading {topic}"):
            records = list(read(addr, topic, sel))
    except (TopicNotFound, BrokerUnreachable) as exc:
        fail(str(exc))
    except Exception as exc:  # a broker that went away mid-read: one line, not a traceback
        fail(f"reading {topic} from {addr} failed: {exc}")
    published = 0
    if records and not dry_run:
        reason = f"sandbox:{sandbox}" if sandbox else "replay"
        published = publish_with_progress(addr, [(r, target) for r in records], reason)
    times = sorted(r.timestamp_ms for r in records)
    span = (f"{datetime.fromtimestamp(times[0] / 1000, UTC):%Y-%m-%d %H:%M:%S} .. "
            f"{datetime.fromtimestamp(times[-1] / 1000, UTC):%Y-%m-%d %H:%M:%S} UTC") if times else "-"
    summary("replay" + (" (dry run)" if dry_run else ""), [
        ("source", topic), ("target", target), ("selected", str(len(records))),
        ("published", str(published)), ("partitions", str(len({r.partition for r in records}))),
        ("time span", span)])


@app.command()
def diff(
    sandbox: Annotated[str, typer.Option(help="the sandbox whose decisions to compare")],
    tenant: Annotated[list[str] | None, typer.Option(help="tenant phone_number_id (repeatable)")] = None,
    state_dir: Annotated[Path, typer.Option(help="state folder of the local stack")] = Path(".wapipe"),
    store_url: Annotated[str | None, typer.Option(help="original store (default: the stack's, else "
                                                  "WAPIPE_STORE_URL)")] = None,
    sandbox_store_url: Annotated[str | None, typer.Option(help="sandbox store (default: in --state-dir)")] = None,
) -> None:
    """Compare route, intent, message type and decision path of the sandbox against the original traces."""
    from wapipe.store import open_store
    from wapipe_tools.replay.diff import DiffReport, load

    try:
        sandbox_url = sandbox_store_url or sandboxes.store_url(state_dir, sandbox)
    except ValueError as exc:
        fail(str(exc))
    if sandbox_url.startswith("sqlite:///") and not Path(sandbox_url.removeprefix("sqlite:///")).exists():
        fail(f"no decisions recorded for sandbox {sandbox} ({sandbox_url}); serve it with wapipe up --sandbox")

    async def run() -> DiffReport:
        stack_file = state_dir / "stack.json"
        stack_store = json.loads(stack_file.read_text()).get("store_url") if stack_file.is_file() else None
        original = open_store(store_url or stack_store or CommonSettings().store_url)
        replayed = open_store(sandbox_url)
        try:
            return await load(original, replayed, tenant or [DEMO_TENANT])
        finally:
            await original.close()
            await replayed.close()

    report = asyncio.run(run())
    table = Table("correlation id", "field", "before", "after", title=f"decisions changed in sandbox {sandbox}")
    for c in report.changes:
        table.add_row(c.correlation_id, c.field, c.before, c.after)
    if report.changes:
        console.print(table)
    console.print(f"compared {report.compared}: {report.unchanged} unchanged, {report.changed} changed; "
                  f"{report.without_original} without an original trace", highlight=False)
