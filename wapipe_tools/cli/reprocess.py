"""`wapipe reprocess`: normalise the raw webhook log again (after a fix) and re-publish the events."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AsyncExitStack
from typing import Annotated

import typer
from prometheus_client import CollectorRegistry
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from schemas.topics import RAW_WEBHOOKS
from services.ingress.metrics import IngressMetrics
from services.ingress.resolve import IdentityResolver
from wapipe.kafka import KafkaConnection
from wapipe.runtime.resources import open_redis, open_store
from wapipe.settings import CommonSettings
from wapipe.state.identity import IdentityMap
from wapipe.topics import BrokerUnreachable
from wapipe_tools.cli.common import console, fail
from wapipe_tools.cli.replay import BootstrapOpt, parse_time, summary
from wapipe_tools.replay import sandbox as sandboxes
from wapipe_tools.replay.reader import Selection, TopicNotFound, partitions_of, read
from wapipe_tools.replay.reprocess import Reprocessed, renormalise, republish

SHOWN_UNREADABLE = 10


def reprocess(
    since: Annotated[str, typer.Option(help="bodies received at or after this time (ISO 8601 or 15m/2h/1d)")],
    until: Annotated[str | None, typer.Option(help="bodies received before this time")] = None,
    dry_run: Annotated[bool, typer.Option(help="normalise and count, publish nothing")] = False,
    sandbox: Annotated[str | None, typer.Option(help="publish into sandbox NAME's topics instead")] = None,
    bootstrap: BootstrapOpt = None,
) -> None:
    """Read wa.webhooks.raw.v1 by time, normalise each body again and re-publish its events (same ids: what was
    already handled is dropped downstream), keyed through the identity map (WAPIPE_REDIS_URL, WAPIPE_STORE_URL).
    Topics carry WAPIPE_TOPIC_PREFIX."""
    settings = CommonSettings()
    try:
        sel = Selection(since_ms=parse_time(since), until_ms=parse_time(until) if until else None)
        target = sandboxes.prefix(sandbox) if sandbox else settings.topic_prefix
    except ValueError as exc:
        fail(str(exc))
    if sel.until_ms is not None and sel.since_ms is not None and sel.until_ms <= sel.since_ms:
        fail("--until must be after --since")
    addr, source = settings.kafka(bootstrap), settings.topic(RAW_WEBHOOKS)
    try:
        partitions_of(addr, source)
        if sandbox is not None and not dry_run:
            sandboxes.ensure_topics(addr, sandbox)
        with console.status(f"reading {source}"):
            result = renormalise(read(addr, source, sel))
    except (TopicNotFound, BrokerUnreachable) as exc:
        fail(str(exc))
    except Exception as exc:  # a broker that went away mid-read: one line, not a traceback
        fail(f"reading {source} from {addr} failed: {exc}")
    published = 0
    if result.events and not dry_run:
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=not console.is_terminal) as progress:
            task = progress.add_task("publishing", total=len(result.events))
            published = asyncio.run(_publish(settings, result, addr, target, lambda n: progress.advance(task, n)))
    _report(result, source, target, published, dry_run)


async def _publish(settings: CommonSettings, result: Reprocessed, addr: KafkaConnection, prefix: str,
                   on_done: Callable[[int], None]) -> int:
    """Re-publish with the identity map ingress uses (Redis over the store), so customer events get the keys the
    webhook gives them."""
    async with AsyncExitStack() as stack:
        redis = await stack.enter_async_context(open_redis(settings.redis_url))
        store = await stack.enter_async_context(open_store(settings.store_url))
        identities = IdentityResolver(IdentityMap(redis, store), IngressMetrics(CollectorRegistry()))
        return await republish(addr, result, prefix=prefix, identities=identities, on_done=on_done)


def _report(result: Reprocessed, source: str, target: str, published: int, dry_run: bool) -> None:
    per_topic = ", ".join(f"{t}: {n}" for t, n in sorted(result.per_topic().items())) or "-"
    summary("reprocess" + (" (dry run)" if dry_run else ""), [
        ("source", source), ("target prefix", target or "(none)"), ("bodies", str(result.bodies)),
        ("events", str(len(result.events))), ("per topic", per_topic), ("published", str(published)),
        ("still unreadable", str(len(result.unreadable))), ("skipped unverified", str(result.unverified)),
        ("skipped not a webhook", str(result.not_webhooks))])
    for part, r in result.unreadable[:SHOWN_UNREADABLE]:
        console.print(f"unreadable {part.kind} at {part.path} ({r.topic} {r.partition}:{r.offset}): {part.error}",
                      highlight=False, soft_wrap=True)
