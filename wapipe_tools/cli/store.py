"""`wapipe store migrate|purge`: the conversation store named by WAPIPE_STORE_URL."""

from __future__ import annotations

import asyncio
from typing import Any

import typer

from wapipe.settings import CommonSettings
from wapipe.store import Store, StoreUnavailable, open_store
from wapipe.store.port import ConversationStore
from wapipe_tools.cli.common import console, fail

app = typer.Typer(help="The conversation store (SQLite or Cassandra).", no_args_is_help=True)

UrlOpt = typer.Option(None, "--url", help="store URL (default: WAPIPE_STORE_URL)")


def open_configured(url: str | None) -> tuple[str, Store]:
    """The store `url` names, else WAPIPE_STORE_URL (settings, .env included); exit 2 on a bad URL."""
    s = CommonSettings()
    target = url or s.store_url
    opts: dict[str, Any] = {}
    # A cassandra URL without hosts takes them from settings (which also read .env).
    if target.startswith("cassandra:///") and s.cassandra_contact_points:
        opts["contact_points"] = tuple(p.strip() for p in s.cassandra_contact_points.split(",") if p.strip())
    try:
        return target, open_store(target, **opts)
    except ValueError as exc:
        fail(str(exc))


async def _migrate(store: ConversationStore) -> None:
    try:
        await store.migrate()
    finally:
        await store.close()


async def _purge(store: ConversationStore) -> int:
    try:
        purge = getattr(store, "purge", None)
        return int(await purge()) if purge is not None else 0
    finally:
        await store.close()


@app.command()
def migrate(url: str | None = UrlOpt) -> None:
    """Create or upgrade the store's schema (idempotent: safe to run on every deploy)."""
    target, store = open_configured(url)
    try:
        asyncio.run(_migrate(store))
    except StoreUnavailable as exc:
        fail(str(exc))
    console.print(f"store schema up to date: {target.split('@')[-1]}", highlight=False)


@app.command()
def purge(url: str | None = UrlOpt) -> None:
    """Delete expired rows now (SQLite; Cassandra expires rows itself by TTL)."""
    _, store = open_configured(url)
    try:
        removed = asyncio.run(_purge(store))
    except StoreUnavailable as exc:
        fail(str(exc))
    console.print(f"purged {removed} expired rows", highlight=False)
