"""Operator console accounts: passwords hashed with argon2id (`argon2-cffi`), roles, and the `Scope` an account
carries (`wapipe.access`): an `admin` acts on every tenant and manages accounts, an `agent` on their own tenants.

Passwords are checked against the hash only (`verify`); a hash made with older parameters is upgraded on the next
good sign-in (`needs_rehash`). Nothing here logs or returns a password.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from wapipe.access import ALL_TENANTS, InvalidScope, Scope, check_name, check_tenants
from wapipe.store.accounts import AccountRole, OperatorAccount
from wapipe.store.port import OperatorToken, OperatorTokenStore

MIN_PASSWORD = 12
MAX_PASSWORD = 256
ROLES: tuple[AccountRole, ...] = ("admin", "agent")
CONSOLE_CREDENTIAL = "console sign-in"


class WeakPassword(ValueError):
    pass


def _hasher() -> PasswordHasher:
    return PasswordHasher()  # argon2id with the library's current (RFC 9106 low-memory) parameters


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise WeakPassword(f"a password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise WeakPassword(f"a password has at most {MAX_PASSWORD} characters")
    if len(set(password)) < 5:
        raise WeakPassword("a password needs some variety (at least 5 different characters)")
    return password


def hash_password(password: str) -> str:
    return _hasher().hash(check_password(password))


def verify(account: OperatorAccount, password: str) -> bool:
    """Whether `password` is the account's; never raises for a wrong or malformed one."""
    if len(password) > MAX_PASSWORD:
        return False
    try:
        return bool(_hasher().verify(account.password_hash, password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(account: OperatorAccount) -> bool:
    return _hasher().check_needs_rehash(account.password_hash)


def tenants_for(role: AccountRole, tenants: Iterable[str]) -> frozenset[str]:
    """An admin has every tenant; an agent one or more phone_number_ids (never every tenant)."""
    given = [t for t in tenants if t]
    if role == "admin":
        if given and set(given) != {ALL_TENANTS}:
            raise InvalidScope("an admin has every tenant: give no --tenant")
        return frozenset({ALL_TENANTS})
    if role != "agent":
        raise InvalidScope(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    found = check_tenants(given)
    if ALL_TENANTS in found:
        raise InvalidScope("an agent acts on named tenants; every tenant is the admin role")
    return found


def new_account(name: str, role: AccountRole, tenants: Iterable[str], password: str,
                now: datetime | None = None) -> OperatorAccount:
    at = now or datetime.now(UTC)
    return OperatorAccount(name=check_name(name), role=role, tenants=tenants_for(role, tenants),
                           password_hash=hash_password(password), created_at=at, password_set_at=at)


def with_password(account: OperatorAccount, password: str, now: datetime | None = None) -> OperatorAccount:
    return replace(account, password_hash=hash_password(password), password_set_at=now or datetime.now(UTC))


def scope_of(account: OperatorAccount) -> Scope:
    return Scope(account.name, account.tenants, CONSOLE_CREDENTIAL)


def token_scope(token: OperatorToken, account: OperatorAccount | None) -> Scope | None:
    """What an operator API token may do now. A token of an account (named after it: `wapipe operators token add
    --operator NAME`, or minted on the console's token page) carries that account's scope, never more than it was
    minted with, and dies with it: None once the account is disabled or its password was reset after the token was
    made (the same rule that ends its console sessions). A token of no account (automation: `--name`) is as made."""
    if account is None:
        return Scope.of_token(token)
    if account.disabled_at is not None or account.password_set_at > token.created_at:
        return None
    tenants = token.tenants if ALL_TENANTS in account.tenants else (
        account.tenants if ALL_TENANTS in token.tenants else token.tenants & account.tenants)
    if not tenants:
        return None
    return Scope(account.name, tenants, f"token {token.token_id}")



async def revoke_tokens_of(tokens: OperatorTokenStore, name: str, at: datetime) -> list[OperatorToken]:
    """Revoke every live token of the account `name` (its access was disabled or its password reset); -> those
    revoked now. `token_scope` refuses them anyway; revoking keeps the token list true."""
    live = [t for t in await tokens.operator_tokens() if t.name == name and t.revoked_at is None]
    for t in live:
        await tokens.revoke_operator_token(t.token_id, at)
    return live
