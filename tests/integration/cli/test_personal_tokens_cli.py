"""Personal API tokens: `wapipe operators token add --operator NAME` mints a token of a console account with the
account's scope; the operator API accepts it as that operator, and disabling the account or resetting its
password revokes it (listed as revoked, refused by the API)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.notifier.api import Refused, identify
from wapipe.access import Scope
from wapipe.store import open_store
from wapipe_tools.cli.main import app

SHOP = "100000000000001"
ADMIN = b"bootstrap-admin-token-0123456789"


@pytest.fixture
def store_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path}/ops.db"
    monkeypatch.setenv("WAPIPE_STORE_URL", url)
    return url


def _identify(url: str, token: str) -> Scope | str:
    async def run() -> Scope | str:
        store = open_store(url, purge_interval=0)
        try:
            return await identify(f"Bearer {token}", ADMIN, store, store)
        except Refused as refused:
            return str(refused)
        finally:
            await store.close()

    return asyncio.run(run())


def _add(runner: CliRunner, name: str, *args: str) -> None:
    added = runner.invoke(app, ["operators", "add", "--name", name, *args, "--password-stdin"],
                          input=f"clave de {name} 2026\n")
    assert added.exit_code == 0, added.output


def _mint(runner: CliRunner, name: str) -> dict[str, str]:
    minted = runner.invoke(app, ["operators", "token", "add", "--operator", name, "--json"])
    assert minted.exit_code == 0, minted.output
    doc: dict[str, str] = json.loads(minted.stdout)
    return doc


@pytest.mark.parametrize("ends_it", [["disable"], ["reset-password", "--password-stdin"]])
def test_a_personal_token_carries_its_accounts_scope_and_dies_with_its_access(store_url: str,
                                                                              ends_it: list[str]) -> None:
    runner = CliRunner()
    _add(runner, "laura", "--tenant", SHOP)
    doc = _mint(runner, "laura")
    assert doc["name"] == "laura" and doc["tenants"] == [SHOP]
    scope = _identify(store_url, doc["token"])
    assert isinstance(scope, Scope) and scope.name == "laura" and scope.tenants == {SHOP}
    assert scope.credential == f"token {doc['token_id']}"

    ended = runner.invoke(app, ["operators", ends_it[0], "laura", *ends_it[1:]], input="otra clave de laura\n")
    assert ended.exit_code == 0, ended.output
    listed = json.loads(runner.invoke(app, ["operators", "token", "list", "--json"]).stdout)
    assert [(t["token_id"], t["revoked_at"] is not None) for t in listed] == [(doc["token_id"], True)]
    refused = _identify(store_url, doc["token"])
    assert isinstance(refused, str) and "revoked" in refused
    assert isinstance(_identify(store_url, ADMIN.decode()), Scope)  # the break-glass credential stays


def test_an_admins_personal_token_has_every_tenant_and_an_unknown_operator_gets_none(store_url: str) -> None:
    runner = CliRunner()
    _add(runner, "root", "--role", "admin")
    assert _mint(runner, "root")["tenants"] == ["*"]
    unknown = runner.invoke(app, ["operators", "token", "add", "--operator", "nadie"])
    assert unknown.exit_code == 2 and "no enabled operator" in unknown.output and "wapipe_op_" not in unknown.output
    mixed = runner.invoke(app, ["operators", "token", "add", "--operator", "root", "--all"])
    assert mixed.exit_code == 2 and "wapipe_op_" not in mixed.output
