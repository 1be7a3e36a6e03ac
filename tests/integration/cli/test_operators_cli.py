"""`wapipe operators token add|list|revoke` against a SQLite store, as an administrator runs them."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wapipe.access import hash_token
from wapipe.store import OperatorToken, open_store
from wapipe_tools.cli.main import app


@pytest.fixture
def store_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path}/ops.db"
    monkeypatch.setenv("WAPIPE_STORE_URL", url)
    return url


def _stored(url: str, token: str) -> OperatorToken | None:
    async def read() -> OperatorToken | None:
        store = open_store(url, purge_interval=0)
        try:
            return await store.operator_token(hash_token(token))
        finally:
            await store.close()

    return asyncio.run(read())


def test_add_prints_the_token_once_and_keeps_only_its_hash(store_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    added = runner.invoke(app, ["operators", "token", "add", "--name", "ana", "--tenant", "100000000000001",
                                "--tenant", "100000000000002", "--json"])
    assert added.exit_code == 0, added.output
    doc = json.loads(added.stdout)
    token = doc["token"]
    assert token.startswith("wapipe_op_") and doc["tenants"] == ["100000000000001", "100000000000002"]
    stored = _stored(store_url, token)
    assert stored is not None and stored.name == "ana" and stored.token_id == doc["token_id"]
    assert token.encode() not in (tmp_path / "ops.db").read_bytes()

    human = runner.invoke(app, ["operators", "token", "add", "--name", "root", "--all"])
    assert human.exit_code == 0 and "every tenant" in human.stdout
    root_token = next(ln for ln in human.stdout.splitlines() if ln.startswith("wapipe_op_"))
    assert _stored(store_url, root_token) is not None

    listed = runner.invoke(app, ["operators", "token", "list", "--json"])
    assert listed.exit_code == 0
    rows = json.loads(listed.stdout)
    assert [(r["name"], r["revoked_at"]) for r in rows] == [("ana", None), ("root", None)]
    assert token not in listed.stdout and root_token not in listed.stdout
    table = runner.invoke(app, ["operators", "token", "list"])
    assert doc["token_id"] in table.stdout and token not in table.stdout


def test_revoke_marks_the_token_and_unknown_ids_fail(store_url: str) -> None:
    runner = CliRunner()
    doc = json.loads(runner.invoke(app, ["operators", "token", "add", "--name", "luis", "--tenant",
                                         "100000000000001", "--json"]).stdout)
    revoked = runner.invoke(app, ["operators", "token", "revoke", doc["token_id"]])
    assert revoked.exit_code == 0 and "revoked" in revoked.stdout
    stored = _stored(store_url, doc["token"])
    assert stored is not None and stored.revoked_at is not None
    assert json.loads(runner.invoke(app, ["operators", "token", "list", "--json"]).stdout)[0]["revoked_at"]
    unknown = runner.invoke(app, ["operators", "token", "revoke", "000000000000"])
    assert unknown.exit_code == 2 and "no operator token" in unknown.output


@pytest.mark.parametrize("args", [["--name", "ana"], ["--name", "ana", "--all", "--tenant", "100000000000001"],
                                  ["--name", "ana y luis", "--all"], ["--name", "ana", "--tenant", "demo"],
                                  ["--name", "ana", "--tenant", "*"]])
def test_add_refuses_a_scope_that_is_not_clear(store_url: str, args: list[str]) -> None:
    result = CliRunner().invoke(app, ["operators", "token", "add", *args])
    assert result.exit_code == 2, result.output
    assert "wapipe_op_" not in result.output
