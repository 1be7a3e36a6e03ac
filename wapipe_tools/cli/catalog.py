"""`wapipe catalog import|show|search --tenant T`: a tenant's product catalog, in the store WAPIPE_STORE_URL names.

`import FILE` validates every row of a Meta catalog feed (CSV, TSV or JSON lines); any bad row: one line per bad
row on stderr (file:line: column: reason), exit 2, and the old catalog stays. Otherwise the file becomes the
tenant's catalog as a new version, in one switch. `--upsert` lays the file's rows over the current catalog by id.
`search QUERY` prints a JSON array of hits, best first, from the same function the AI stage's tool calls.
An unreachable store: one line and exit 1.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from wapipe.catalog import Catalog, CatalogStore, CatalogUnavailable, Hit, open_catalog
from wapipe.catalog.feed import FeedError
from wapipe.catalog.importer import ImportResult, import_feed, upsert_feed
from wapipe.privacy.subject import UnknownTenant, resolve_tenant
from wapipe.settings import CommonSettings
from wapipe.tenants import TenantConfigError, TenantRegistry
from wapipe_tools.cli.common import console, err_console, fail

app = typer.Typer(help="A tenant's product catalog: import a Meta feed, show it, search it.", no_args_is_help=True)
T = TypeVar("T")

TenantOpt = typer.Option(..., "--tenant", "-t", help="tenant name (file stem) or phone_number_id")
DirOpt = typer.Option(None, "--tenants-dir", help="default: WAPIPE_TENANTS_DIR")
UrlOpt = typer.Option(None, "--url", help="store URL (default: WAPIPE_STORE_URL)")


def _tenant(s: CommonSettings, tenant: str, tenants_dir: str | None) -> str:
    try:
        return resolve_tenant(TenantRegistry(tenants_dir or s.tenants_dir, check_interval_s=3600), tenant)[0]
    except (UnknownTenant, TenantConfigError) as exc:
        fail(str(exc))


def _store(s: CommonSettings, url: str | None) -> CatalogStore:
    target = url or s.store_url
    opts: dict[str, Any] = {}
    if target.startswith("cassandra:///") and s.cassandra_contact_points:
        opts["contact_points"] = tuple(p.strip() for p in s.cassandra_contact_points.split(",") if p.strip())
    try:
        return open_catalog(target, **opts)
    except ValueError as exc:
        fail(str(exc))


def _run(url: str | None, fn: Callable[[CatalogStore], Awaitable[T]]) -> T:
    store = _store(CommonSettings(), url)

    async def main() -> T:
        try:
            await store.migrate()
            return await fn(store)
        finally:
            await store.close()

    try:
        return asyncio.run(main())
    except CatalogUnavailable as exc:
        fail(str(exc), code=1)


@app.command("import")
def import_(file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
            tenant: str = TenantOpt, upsert: bool = typer.Option(False, "--upsert", help="update these rows only"),
            tenants_dir: str | None = DirOpt, url: str | None = UrlOpt) -> None:
    """Import a Meta catalog feed (CSV, TSV, JSON lines) as the tenant's catalog."""
    pnid = _tenant(CommonSettings(), tenant, tenants_dir)
    bar = Progress(TextColumn("importing {task.fields[name]}"), BarColumn(), MofNCompleteColumn(),
                   TimeRemainingColumn(), console=err_console, transient=True)
    task = bar.add_task("import", total=None, name=file.name)

    async def work(store: CatalogStore) -> ImportResult:
        if upsert:
            return await upsert_feed(store, pnid, file)
        embedder = CommonSettings().catalog_embedder()
        try:
            with bar:
                return await import_feed(store, pnid, file, on_total=lambda n: bar.update(task, total=n),
                                         progress=lambda n: bar.advance(task, n), embedder=embedder)
        finally:
            if embedder is not None:
                await embedder.close()

    try:
        result = _run(url, work)
    except FeedError as exc:
        fail(str(exc))
    if result.errors:
        for error in result.errors:
            err_console.print(str(error), highlight=False, soft_wrap=True, markup=False)
        fail(f"{len(result.errors)} bad rows in {file.name}; nothing imported, the current catalog stays")
    v = result.version
    assert v is not None
    what = "updated" if upsert else "imported"
    console.print(f"{what} {result.rows} rows: catalog version {v.version} of {tenant} has {v.products} products "
                  f"in {v.groups} groups ({v.in_stock} in stock)", highlight=False)


@app.command()
def show(tenant: str = TenantOpt, tenants_dir: str | None = DirOpt, url: str | None = UrlOpt) -> None:
    """The tenant's catalog version and counts, as JSON."""
    pnid = _tenant(CommonSettings(), tenant, tenants_dir)
    version = _run(url, lambda store: store.version(pnid))
    if version is None:
        fail(f"tenant {tenant} has no catalog yet: wapipe catalog import --tenant {tenant} FILE", code=1)
    typer.echo(json.dumps(version.__dict__, ensure_ascii=False, indent=2))


@app.command()
def search(query: str = typer.Argument(..., help="the customer's question, as written"), tenant: str = TenantOpt,
           limit: int = typer.Option(5, "--limit", "-k", min=1, max=50), tenants_dir: str | None = DirOpt,
           url: str | None = UrlOpt) -> None:
    """Search the tenant's catalog; prints a JSON array, best first."""
    pnid = _tenant(CommonSettings(), tenant, tenants_dir)

    async def work(store: CatalogStore) -> list[Hit]:
        embedder = CommonSettings().catalog_embedder()
        try:
            return await Catalog(store, embedder).search(pnid, query, limit=limit)
        finally:
            if embedder is not None:
                await embedder.close()

    hits = _run(url, work)
    typer.echo(json.dumps([h.to_dict() for h in hits], ensure_ascii=False, indent=2))
