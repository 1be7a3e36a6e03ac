"""`wapipe store migrate|purge` as an operator runs them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wapipe_tools.cli.main import app
from wapipe_tools.local.servers import free_port


def test_migrate_creates_the_sqlite_schema_and_is_idempotent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WAPIPE_STORE_URL", "sqlite:///state/wapipe.db")
    runner = CliRunner()
    for _ in range(2):
        result = runner.invoke(app, ["store", "migrate"])
        assert result.exit_code == 0, result.output
    with sqlite3.connect(tmp_path / "state" / "wapipe.db") as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"turns", "traces", "handoffs"} <= tables
    purge = runner.invoke(app, ["store", "purge"])
    assert purge.exit_code == 0 and "purged 0" in purge.output


def test_unreachable_cassandra_is_one_line_and_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()  # nothing listens there
    monkeypatch.setenv("WAPIPE_STORE_URL", f"cassandra://127.0.0.1:{port}/wapipe?connect_timeout=2")
    result = CliRunner().invoke(app, ["store", "migrate"])
    assert result.exit_code == 2
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "cannot reach Cassandra" in lines[0], result.output
