"""Personal API tokens on the console page: an operator mints one (shown once) that the operator API accepts as
them with their tenants, revokes it, cannot touch another operator's, and a password reset ends the rest."""

from __future__ import annotations

import re

from services.notifier.api import Refused, identify
from tests.integration.console.conftest import SHOP, Console, csrf_of
from wapipe.access import Scope
from wapipe.accounts import with_password

ADMIN = b"bootstrap-admin-token-0123456789"


async def scope_of(console: Console, token: str) -> Scope | str:
    try:
        return await identify(f"Bearer {token}", ADMIN, console.store, console.store)
    except Refused as refused:
        return str(refused)


def minted(html: str) -> str:
    found = re.search(r'<code id="minted-token">(wapipe_op_[^<]+)</code>', html)
    assert found, html
    return found.group(1)


async def test_an_operator_mints_and_revokes_their_own_tokens(console: Console) -> None:
    async with console.client() as http:
        await console.sign_in(http, "luis")
        page = await http.get("/tokens")
        assert page.status_code == 200 and "wapipe_op_" not in page.text
        assert (await http.post("/tokens", data={"x": "1"})).status_code == 403  # no CSRF token: nothing minted
        assert await console.store.operator_tokens() == []
        made = await http.post("/tokens", data={"csrf": csrf_of(page.text)})
        assert made.status_code == 201
        token = minted(made.text)
        [record] = await console.store.operator_tokens()
        assert record.name == "luis" and record.tenants == {SHOP} and token not in (await http.get("/tokens")).text
        scope = await scope_of(console, token)
        assert isinstance(scope, Scope) and (scope.name, scope.tenants) == ("luis", {SHOP})

    async with console.client() as other:  # another operator cannot revoke it
        await console.sign_in(other, "otra")
        csrf = csrf_of((await other.get("/tokens")).text)
        assert record.token_id not in (await other.get("/tokens")).text
        assert (await other.post(f"/tokens/{record.token_id}/revoke", data={"csrf": csrf})).status_code == 404
    assert isinstance(await scope_of(console, token), Scope)

    async with console.client() as http:
        await console.sign_in(http, "luis")
        csrf = csrf_of((await http.get("/tokens")).text)
        revoked = await http.post(f"/tokens/{record.token_id}/revoke", data={"csrf": csrf})
        assert revoked.status_code == 303
        refused = await scope_of(console, token)
        assert isinstance(refused, str) and "revoked" in refused
        second = minted((await http.post("/tokens", data={"csrf": csrf})).text)
        assert isinstance(await scope_of(console, second), Scope)
    events = [(e.name, e.action) for e in await console.store.operator_events()]
    assert ("luis", "token_added") in events and ("luis", "token_revoked") in events

    account = await console.store.operator_account("luis")
    assert account is not None
    await console.store.put_operator_account(with_password(account, "una clave nueva de luis"))
    refused = await scope_of(console, second)  # a password reset ends the account's tokens
    assert isinstance(refused, str) and "revoked" in refused
