"""`wapipe operators token add|list|revoke`: operator API tokens, each bound to a name and tenants, kept in the
conversation store named by WAPIPE_STORE_URL (only their sha256; the token is printed once, by `add`). A personal
token (`--operator NAME`) belongs to a console account: it carries the account's scope and is revoked when the
account is disabled or its password reset."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import typer
from rich.table import Table

from wapipe.access import ALL_TENANTS, InvalidScope, new_token
from wapipe.store import OperatorEvent, OperatorToken, Store, StoreUnavailable
from wapipe_tools.cli.common import console, err_console, fail
from wapipe_tools.cli.store import open_configured

app = typer.Typer(help="Operators: console accounts (add, list, disable, reset-password) and operator API tokens.",
                  no_args_is_help=True)
token_app = typer.Typer(help="Operator API tokens: a name and the tenants it may act on.", no_args_is_help=True)
app.add_typer(token_app, name="token")

T = TypeVar("T")
UrlOpt = Annotated[str | None, typer.Option("--url", help="store URL (default: WAPIPE_STORE_URL)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON (for scripts)")]


def _with_store(url: str | None, action: Callable[[Store], Awaitable[T]]) -> T:
    _, store = open_configured(url)

    async def run() -> T:
        try:
            return await action(store)
        finally:
            await store.close()

    try:
        return asyncio.run(run())
    except StoreUnavailable as exc:
        fail(str(exc))


def _doc(t: OperatorToken) -> dict[str, Any]:
    return {"token_id": t.token_id, "name": t.name, "tenants": sorted(t.tenants),
            "created_at": t.created_at.isoformat(timespec="seconds"),
            "revoked_at": t.revoked_at.isoformat(timespec="seconds") if t.revoked_at else None}


def _tenants(t: OperatorToken) -> str:
    return "every tenant" if ALL_TENANTS in t.tenants else ", ".join(sorted(t.tenants))


@token_app.command("add")
def add(
    name: Annotated[str | None, typer.Option("--name", help="what the handoff audit records (a token of no "
                                             "account: automation)")] = None,
    tenant: Annotated[list[str] | None, typer.Option("--tenant", help="a phone_number_id it may act on (repeat)")]
    = None,
    all_tenants: Annotated[bool, typer.Option("--all", help="every tenant (an admin token)")] = False,
    operator: Annotated[str | None, typer.Option("--operator", help="a personal token of this console account: "
                                                 "its scope, revoked when it is disabled or its password reset")]
    = None,
    url: UrlOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a token and print it once: only its hash is kept, it cannot be shown again."""
    if operator is not None:
        if name is not None or tenant or all_tenants:
            fail("--operator takes the account's name and tenants: leave out --name, --tenant and --all")
        plain, record = _with_store(url, lambda store: _personal(store, operator))
    else:
        if name is None:
            fail("give --operator NAME (a personal token) or --name N with --tenant T or --all")
        if all_tenants == bool(tenant):
            fail("give --tenant T (one or more) or --all, not both")
        if ALL_TENANTS in (tenant or []):
            fail("every tenant is --all, not --tenant '*'")
        try:
            plain, record = new_token(name, [ALL_TENANTS] if all_tenants else tenant or [])
        except InvalidScope as exc:
            fail(str(exc))
        _with_store(url, lambda store: store.add_operator_token(record))
    if as_json:
        typer.echo(json.dumps({"token": plain, **_doc(record)}))
        return
    console.print(f"token {record.token_id} for {record.name}: {_tenants(record)}", highlight=False)
    typer.echo(plain)
    err_console.print("shown once: store it now (only its hash is kept). Use it as "
                      "'Authorization: Bearer <token>' on the operator API.", highlight=False)


async def _personal(store: Store, name: str) -> tuple[str, OperatorToken]:
    """A token of the console account `name`, with its tenants; the operators' audit records it."""
    account = await store.operator_account(name)
    if account is None or account.disabled_at is not None:
        fail(f"no enabled operator named {name!r} (see `wapipe operators list`)")
    plain, record = new_token(account.name, account.tenants)
    await store.add_operator_token(record)
    await store.append_operator_event(OperatorEvent(datetime.now(UTC), account.name, "token_added", "cli",
                                                    f"token {record.token_id}"))
    return plain, record


@token_app.command("list")
def list_(url: UrlOpt = None, as_json: JsonOpt = False) -> None:
    """Every token (never the token itself): id, name, tenants, when created and revoked."""
    tokens = _with_store(url, lambda store: store.operator_tokens())
    if as_json:
        typer.echo(json.dumps([_doc(t) for t in tokens]))
        return
    table = Table("id", "name", "tenants", "created", "revoked")
    for t in tokens:
        d = _doc(t)
        table.add_row(t.token_id, t.name, _tenants(t), d["created_at"], d["revoked_at"] or "-")
    console.print(table)


@token_app.command("revoke")
def revoke(token_id: Annotated[str, typer.Argument(help="the token's id (from add or list)")],
           url: UrlOpt = None) -> None:
    """Refuse the token from now on (it stays listed, with when it was revoked)."""
    now = datetime.now(UTC)
    found = _with_store(url, lambda store: store.revoke_operator_token(token_id, now))
    if found is None:
        fail(f"no operator token with id {token_id!r} (see `wapipe operators token list`)")
    when = found.revoked_at.isoformat(timespec="seconds") if found.revoked_at else "?"
    console.print(f"token {found.token_id} of {found.name} revoked ({when})", highlight=False)
