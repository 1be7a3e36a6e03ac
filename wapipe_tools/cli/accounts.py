"""`wapipe operators add|list|disable|reset-password`: the operator console's accounts, kept in the conversation
store named by WAPIPE_STORE_URL (argon2id hashes only). A password is read from a hidden prompt, or from stdin with
`--password-stdin` (scripts); it is never an argument, so it never lands in a shell history or a process list."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from wapipe.access import InvalidScope
from wapipe.accounts import ROLES, WeakPassword, check_password, new_account, revoke_tokens_of, with_password
from wapipe.store import OperatorAccount, OperatorEvent, Store
from wapipe.store.accounts import AccountRole
from wapipe_tools.cli.common import console, fail
from wapipe_tools.cli.operators import JsonOpt, UrlOpt, _with_store

StdinOpt = Annotated[bool, typer.Option("--password-stdin", help="read the password from stdin (one line)")]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        return check_password(password)
    except WeakPassword as exc:
        fail(str(exc))


def _doc(a: OperatorAccount) -> dict[str, Any]:
    return {"name": a.name, "role": a.role, "tenants": sorted(a.tenants),
            "created_at": a.created_at.isoformat(timespec="seconds"),
            "password_set_at": a.password_set_at.isoformat(timespec="seconds"),
            "disabled_at": a.disabled_at.isoformat(timespec="seconds") if a.disabled_at else None}


async def _audit(store: Store, name: str, action: str, detail: str | None = None) -> None:
    await store.append_operator_event(OperatorEvent(datetime.now(UTC), name, action, "cli", detail))


def add(
    name: Annotated[str, typer.Option("--name", help="the operator: how they sign in and what the audit records")],
    role: Annotated[str, typer.Option("--role", help="admin (every tenant, manages accounts) or agent")] = "agent",
    tenant: Annotated[list[str] | None, typer.Option("--tenant", help="a phone_number_id an agent acts on "
                                                     "(repeat)")] = None,
    password_stdin: StdinOpt = False,
    url: UrlOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a console account (refused when the name exists)."""
    if role not in ROLES:
        fail(f"--role must be one of {', '.join(ROLES)}")
    password = _password(password_stdin)
    try:
        account = new_account(name, role_of(role), tenant or [], password)
    except InvalidScope as exc:
        fail(str(exc))

    async def put(store: Store) -> bool:
        if await store.operator_account(account.name) is not None:
            return False
        await store.put_operator_account(account)
        await _audit(store, account.name, "added", f"{account.role} {','.join(sorted(account.tenants))}")
        return True

    if not _with_store(url, put):
        fail(f"an operator named {account.name!r} exists (see `wapipe operators list`)")
    if as_json:
        typer.echo(json.dumps(_doc(account)))
    else:
        console.print(f"operator {account.name} added: {account.role}, {_tenants(account)}", highlight=False)


def role_of(role: str) -> AccountRole:
    return "admin" if role == "admin" else "agent"


def _tenants(a: OperatorAccount) -> str:
    return "every tenant" if a.role == "admin" else ", ".join(sorted(a.tenants))


def list_(url: UrlOpt = None, as_json: JsonOpt = False) -> None:
    """Every console account (never a password nor its hash)."""
    accounts = _with_store(url, lambda store: store.operator_accounts())
    if as_json:
        typer.echo(json.dumps([_doc(a) for a in accounts]))
        return
    table = Table("name", "role", "tenants", "created", "password set", "disabled")
    for a in accounts:
        d = _doc(a)
        table.add_row(a.name, a.role, _tenants(a), d["created_at"], d["password_set_at"], d["disabled_at"] or "-")
    console.print(table)


def _change(url: str | None, name: str, action: str, change: Any) -> OperatorAccount:
    async def run(store: Store) -> OperatorAccount | None:
        found = await store.operator_account(name)
        if found is None:
            return None
        changed: OperatorAccount = change(found)
        await store.put_operator_account(changed)
        await _audit(store, name, action)
        revoked = await revoke_tokens_of(store, name, datetime.now(UTC))  # their personal tokens die with it
        if revoked:
            await _audit(store, name, "tokens_revoked", ", ".join(t.token_id for t in revoked))
        return changed

    done = _with_store(url, run)
    if done is None:
        fail(f"no operator named {name!r} (see `wapipe operators list`)")
    return done


def disable(name: Annotated[str, typer.Argument(help="the operator's name")], url: UrlOpt = None) -> None:
    """Refuse the account's sign-in from now on and end its sessions (it stays listed)."""
    now = datetime.now(UTC)
    done = _change(url, name, "disabled", lambda a: a if a.disabled_at else replace(a, disabled_at=now))
    console.print(f"operator {done.name} disabled; their API tokens are revoked", highlight=False)


def reset_password(name: Annotated[str, typer.Argument(help="the operator's name")],
                   password_stdin: StdinOpt = False, url: UrlOpt = None) -> None:
    """Set a new password; every session signed in before it ends (the lockout is not lifted: it expires)."""
    password = _password(password_stdin)
    done = _change(url, name, "password_reset", lambda a: with_password(a, password))
    console.print(f"password of {done.name} reset; their sessions are signed out and API tokens revoked",
                  highlight=False)


def register(app: typer.Typer) -> None:
    """The account commands beside `token` in `wapipe operators`."""
    app.command("add")(add)
    app.command("list")(list_)
    app.command("disable")(disable)
    app.command("reset-password")(reset_password)
