"""`wapipe privacy export|erase` as an operator runs them, on the real Redis and a SQLite store."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from typer.testing import CliRunner

from schemas.envelope import conversation_key
from wapipe.state.consent import Consent
from wapipe.state.window import ServiceWindow
from wapipe.store import ConsentChange, TraceRecord, Turn, open_store
from wapipe_tools.cli.main import app

PNID, USER = "100000000000001", "573005550000"
CONV = conversation_key(PNID, USER)
TENANTS = Path(__file__).parents[3] / "config" / "tenants"


async def _seed(store_url: str, redis_url: str) -> None:
    store, redis = open_store(store_url), aioredis.from_url(redis_url)
    try:
        await redis.flushdb()
        now = datetime.now(UTC)
        await store.migrate()
        await store.append_turn(Turn(PNID, USER, now, "customer", "STOP", ("wamid.P1",)))
        await store.write_trace(TraceRecord(PNID, CONV, "wamid.P1", now, "replied", route="consent"))
        await Consent(redis, store).record(ConsentChange(PNID, USER, now, "opted_out", "keyword", "customer",
                                                         "stop", "wamid.P1"))
        await ServiceWindow(redis).touch(CONV, now)
    finally:
        await redis.aclose()
        await store.close()


async def _keys(redis_url: str) -> list[str]:
    redis = aioredis.from_url(redis_url)
    try:
        return [k.decode() async for k in redis.scan_iter(match="*") if USER in k.decode()]
    finally:
        await redis.aclose()


@pytest.fixture
def env(tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    store_url = f"sqlite:///{tmp_path}/wapipe.db"
    monkeypatch.setenv("WAPIPE_STORE_URL", store_url)
    monkeypatch.setenv("WAPIPE_REDIS_URL", redis_url)
    monkeypatch.setenv("WAPIPE_TENANTS_DIR", str(TENANTS))
    asyncio.run(_seed(store_url, redis_url))
    return redis_url


def test_export_erase_export(env: str) -> None:
    runner = CliRunner()
    exported = runner.invoke(app, ["privacy", "export", "--tenant", "demo", "--user", USER])
    assert exported.exit_code == 0, exported.output
    doc = json.loads(exported.stdout)
    assert doc["turns"][0]["text"] == "STOP" and doc["consent"]["status"] == "opted_out"
    assert {r["key"] for r in doc["redis"]} == {f"wapipe:window:{CONV}", f"wapipe:consent:{CONV}"}

    erased = runner.invoke(app, ["privacy", "erase", "--tenant", PNID, "--user", f"+{USER}", "--actor", "dpo"])
    assert erased.exit_code == 0, erased.output
    assert json.loads(erased.stdout)["counts"] == {"turns": 1, "revisions": 0, "traces": 1, "handoffs": 0,
                                                   "consent": 1, "identities": 0, "media": 0, "redis_keys": 2}
    assert asyncio.run(_keys(env)) == []

    after = json.loads(runner.invoke(app, ["privacy", "export", "--tenant", "demo", "--user", USER]).stdout)
    assert set(after["kept"].values()) == {0} and after["redis"] == [] and after["identity_links"] == []
    again = runner.invoke(app, ["privacy", "erase", "--tenant", "demo", "--user", USER])
    assert again.exit_code == 0 and set(json.loads(again.stdout)["counts"].values()) == {0}


@pytest.mark.parametrize("args", [
    ["--tenant", "nope", "--user", USER],
    ["--tenant", "demo", "--user", "573 005"],
    ["--tenant", "demo", "--user", "*"],
])
def test_bad_input_is_one_line_and_exit_2(env: str, args: list[str]) -> None:
    for command in ("export", "erase"):
        result = CliRunner().invoke(app, ["privacy", command, *args])
        assert result.exit_code == 2
        lines = [ln for ln in result.output.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    assert asyncio.run(_keys(env))  # nothing was erased
