"""`wapipe operators add|list|disable|reset-password` against a SQLite store, as an administrator runs them."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wapipe.accounts import verify
from wapipe.store import OperatorAccount, OperatorEvent, open_store
from wapipe_tools.cli.main import app


@pytest.fixture
def store_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path}/ops.db"
    monkeypatch.setenv("WAPIPE_STORE_URL", url)
    return url


def _read(url: str) -> tuple[OperatorAccount | None, list[OperatorEvent]]:
    async def read() -> tuple[OperatorAccount | None, list[OperatorEvent]]:
        store = open_store(url, purge_interval=0)
        try:
            return await store.operator_account("laura"), await store.operator_events()
        finally:
            await store.close()

    return asyncio.run(read())


def test_add_list_disable_and_reset_password(store_url: str) -> None:
    runner = CliRunner()
    added = runner.invoke(app, ["operators", "add", "--name", "laura", "--tenant", "100000000000001",
                                "--password-stdin", "--json"], input="clave de laura 2026\n")
    assert added.exit_code == 0, added.output
    assert json.loads(added.stdout)["tenants"] == ["100000000000001"]
    account, events = _read(store_url)
    assert account is not None and account.role == "agent" and verify(account, "clave de laura 2026")
    assert [e.action for e in events] == ["added"]

    again = runner.invoke(app, ["operators", "add", "--name", "laura", "--tenant", "100000000000001",
                                "--password-stdin"], input="clave de laura 2026\n")
    assert again.exit_code == 2 and "exists" in again.output

    listed = runner.invoke(app, ["operators", "list", "--json"])
    assert listed.exit_code == 0
    docs = json.loads(listed.stdout)
    assert [d["name"] for d in docs] == ["laura"] and "password_hash" not in docs[0]
    assert "$argon2" not in listed.stdout and "clave de laura" not in listed.stdout

    reset = runner.invoke(app, ["operators", "reset-password", "laura", "--password-stdin"],
                          input="otra clave de laura\n")
    assert reset.exit_code == 0, reset.output
    after, _ = _read(store_url)
    assert after is not None and verify(after, "otra clave de laura") and not verify(after, "clave de laura 2026")
    assert after.password_set_at > account.password_set_at

    disabled = runner.invoke(app, ["operators", "disable", "laura"])
    assert disabled.exit_code == 0, disabled.output
    final, events = _read(store_url)
    assert final is not None and final.disabled_at is not None
    assert [e.action for e in events] == ["added", "password_reset", "disabled"]
    assert all(e.actor == "cli" for e in events)


@pytest.mark.parametrize("args, stdin, says", [
    (["--name", "ana", "--tenant", "100000000000001"], "corta\n", "at least 12"),
    (["--name", "ana", "--role", "admin", "--tenant", "100000000000001"], "una clave bastante larga\n",
     "every tenant"),
    (["--name", "ana"], "una clave bastante larga\n", "at least one tenant"),
    (["--name", "ana", "--role", "boss", "--tenant", "100000000000001"], "una clave bastante larga\n", "--role"),
    (["--name", "a b", "--tenant", "100000000000001"], "una clave bastante larga\n", "operator name"),
])
def test_refusals_are_one_line_and_exit_2(store_url: str, args: list[str], stdin: str, says: str) -> None:
    result = CliRunner().invoke(app, ["operators", "add", *args, "--password-stdin"], input=stdin)
    assert result.exit_code == 2 and says in result.output, result.output
    assert _read(store_url)[0] is None


def test_unknown_operator_is_refused(store_url: str) -> None:
    result = CliRunner().invoke(app, ["operators", "disable", "nadie"])
    assert result.exit_code == 2 and "no operator named 'nadie'" in result.output
