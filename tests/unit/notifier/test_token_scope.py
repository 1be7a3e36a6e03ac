"""What an operator API token may do: a token of no account is as made; a token of a console account carries that
account's scope (never more than it was minted with) and is refused once the account is disabled or its password
reset after the token was made."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from wapipe.access import new_token
from wapipe.accounts import new_account, token_scope
from wapipe.store.accounts import OperatorAccount
from wapipe.store.port import OperatorToken

SHOP, OTHER = "100000000000001", "100000000000002"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def account(role: str = "agent", tenants: tuple[str, ...] = (SHOP,)) -> OperatorAccount:
    return new_account("laura", role, list(tenants), "clave de laura 2026", now=T0)  # type: ignore[arg-type]


def token(tenants: tuple[str, ...] = (SHOP,)) -> OperatorToken:
    return new_token("laura", tenants, now=T0 + timedelta(minutes=1))[1]


def test_a_token_of_no_account_is_as_made() -> None:
    scope = token_scope(token((SHOP, OTHER)), None)
    assert scope is not None and scope.tenants == {SHOP, OTHER} and scope.name == "laura"


def test_a_token_of_an_account_never_exceeds_it() -> None:
    t = token((SHOP, OTHER))
    scope = token_scope(t, account())
    assert scope is not None and scope.tenants == {SHOP} and scope.credential == f"token {t.token_id}"
    assert token_scope(token(("*",)), account()).tenants == {SHOP}  # type: ignore[union-attr]
    admin = token_scope(token(("*",)), account("admin", ()))
    assert admin is not None and admin.all_tenants
    assert token_scope(token((OTHER,)), account()) is None  # moved to another shop: nothing left


def test_disabling_the_account_or_resetting_its_password_ends_the_token() -> None:
    t, a = token(), account()
    assert token_scope(t, a) is not None
    assert token_scope(t, replace(a, disabled_at=T0 + timedelta(hours=1))) is None
    assert token_scope(t, replace(a, password_set_at=T0 + timedelta(hours=1))) is None
    later = replace(t, created_at=T0 + timedelta(hours=2))  # minted after the reset
    assert token_scope(later, replace(a, password_set_at=T0 + timedelta(hours=1))) is not None
