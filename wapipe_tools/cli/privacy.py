"""`wapipe privacy export|erase --tenant T --user ID`: one customer's data (Ley 1581, GDPR art. 15/17).

`export` prints everything kept about the customer as JSON; `erase` deletes it from the store, Redis and the
media store and prints what went (counts). Both are audited in the store (who, when, counts, the customer id
masked). Bad input: one line and exit 2; an unreachable store or Redis: one line and exit 1.
"""

from __future__ import annotations

import asyncio
import getpass
import json
from datetime import timedelta
from typing import Any

import typer
from redis.exceptions import RedisError

from wapipe.objectstore.factory import open_object_store
from wapipe.objectstore.owners import MediaOwners
from wapipe.objectstore.port import ObjectStore
from wapipe.privacy import BadSubject, Privacy, StoredMedia, Subject, resolve_subject
from wapipe.redis import connect
from wapipe.settings import CommonSettings, MediaStoreSettings
from wapipe.store import StoreUnavailable, open_store
from wapipe.tenants import TenantConfigError, TenantRegistry
from wapipe_tools.cli.common import fail

app = typer.Typer(help="One customer's data: export it, or erase it everywhere.", no_args_is_help=True)

TenantOpt = typer.Option(..., "--tenant", "-t", help="tenant name (file stem) or phone_number_id")
UserOpt = typer.Option(..., "--user", "-u", help="the customer's wa_id or business-scoped user id")
ActorOpt = typer.Option(None, "--actor", help="who is asking, for the audit (default: cli:<login name>)")
DirOpt = typer.Option(None, "--tenants-dir", help="default: WAPIPE_TENANTS_DIR")


def _subject(s: CommonSettings, tenant: str, user: str, tenants_dir: str | None) -> Subject:
    try:
        registry = TenantRegistry(tenants_dir or s.tenants_dir, check_interval_s=3600)
        return resolve_subject(registry, tenant, user)
    except (BadSubject, TenantConfigError) as exc:
        fail(str(exc))


def _actor(actor: str | None) -> str:
    if actor:
        return actor[:64]
    try:
        return f"cli:{getpass.getuser()}"[:64]
    except (KeyError, OSError):
        return "cli"


def open_media_store() -> ObjectStore:
    """The media stage's object store, from its WAPIPE_MEDIA_* settings (the folder or the S3 bucket)."""
    m = MediaStoreSettings()
    return open_object_store(m.media_store, folder=m.media_dir, bucket=m.media_s3_bucket,
                             endpoint_url=m.media_s3_endpoint_url or None, region=m.media_s3_region,
                             retention=timedelta(days=m.media_retention_days))


async def _run(s: CommonSettings, subject: Subject, action: str, actor: str) -> dict[str, Any]:
    opts: dict[str, Any] = {}
    if s.store_url.startswith("cassandra:///") and s.cassandra_contact_points:
        opts["contact_points"] = tuple(p.strip() for p in s.cassandra_contact_points.split(",") if p.strip())
    store = open_store(s.store_url, **opts)
    redis = connect(s.redis_url, max_connections=8)
    try:
        await store.migrate()
        media = open_media_store()
        privacy = Privacy(store, redis, StoredMedia(MediaOwners(redis), media))
        if action == "export":
            return await privacy.export(subject, actor)
        return await privacy.erase(subject, actor)
    finally:
        await media.aclose()
        await redis.aclose()
        await store.close()


def _main(action: str, tenant: str, user: str, actor: str | None, tenants_dir: str | None) -> None:
    s = CommonSettings()
    subject = _subject(s, tenant, user, tenants_dir)
    try:
        doc = asyncio.run(_run(s, subject, action, _actor(actor)))
    except StoreUnavailable as exc:
        fail(str(exc), code=1)
    except (RedisError, OSError) as exc:
        fail(f"Redis at {s.redis_url.split('@')[-1]} cannot be reached: {exc}", code=1)
    typer.echo(json.dumps(doc, ensure_ascii=False, indent=2))


@app.command()
def export(tenant: str = TenantOpt, user: str = UserOpt, actor: str | None = ActorOpt,
           tenants_dir: str | None = DirOpt) -> None:
    """Print everything kept about one customer as JSON: turns, traces, handoff audit, consent and its history,
    media keys, identities, and their Redis state (window, shadow mode, pending messages, caches)."""
    _main("export", tenant, user, actor, tenants_dir)


@app.command()
def erase(tenant: str = TenantOpt, user: str = UserOpt, actor: str | None = ActorOpt,
          tenants_dir: str | None = DirOpt) -> None:
    """Delete one customer from the store, Redis and the media store; idempotent; prints the counts."""
    _main("erase", tenant, user, actor, tenants_dir)
