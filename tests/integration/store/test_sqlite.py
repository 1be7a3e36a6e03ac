"""What only the SQLite backend promises: a file that survives restarts, WAL, physical purge, safe migrations."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.support import ManualClock, eventually
from wapipe.store import Turn, open_store
from wapipe.store.sqlite import SQLiteStore


def _turn(i: int, user: str = "573001112233") -> Turn:
    return Turn("100000000000001", user, datetime(2026, 3, 1, 12, 0, i, tzinfo=UTC), "customer", f"hola {i}")


def _rows(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM turns").fetchone()[0])


async def test_relative_url_creates_the_directory_and_data_survives_a_restart(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_store("sqlite:///.wapipe/sub/wapipe.db")
    await store.append_turn(_turn(1))  # no explicit migrate: the embedded store migrates on first use
    await store.close()

    db = tmp_path / ".wapipe" / "sub" / "wapipe.db"
    assert db.exists()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    reopened = open_store("sqlite:///.wapipe/sub/wapipe.db")
    assert [t.text for t in await reopened.last_turns("100000000000001", "573001112233")] == ["hola 1"]
    await reopened.close()


async def test_migrations_are_idempotent_even_when_run_concurrently(tmp_path: Path) -> None:
    stores = [SQLiteStore(tmp_path / "s.db", purge_interval=0) for _ in range(4)]
    await asyncio.gather(*(s.migrate() for s in stores))
    await stores[0].migrate()
    await stores[1].append_turn(_turn(1))
    assert len(await stores[2].last_turns("100000000000001", "573001112233")) == 1
    for s in stores:
        await s.close()


async def test_periodic_purge_deletes_expired_rows_from_the_file(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    clock = ManualClock(time.time())
    store = SQLiteStore(db, retention=timedelta(seconds=1), purge_interval=0.5, clock=clock)
    await store.append_turn(_turn(1))
    await store.append_turn(_turn(2, user="other"))
    assert _rows(db) == 2  # nothing expires while the store's clock stands still
    clock.advance(2)  # past the retention: the next purge pass (every 0.5 s) deletes the rows
    assert await eventually(lambda: _rows(db) == 0)
    await store.close()


async def test_two_processes_worth_of_writers_on_one_file(tmp_path: Path) -> None:
    """Each service process opens its own store on the shared file; busy_timeout serialises their writes."""
    a, b = SQLiteStore(tmp_path / "s.db", purge_interval=0), SQLiteStore(tmp_path / "s.db", purge_interval=0)
    await a.migrate()
    await asyncio.gather(*(s.append_turn(_turn(i % 60, user=f"u{i}")) for i in range(200) for s in (a, b)))
    assert _rows(tmp_path / "s.db") == 200  # each turn written by both stores, stored once
    await a.close()
    await b.close()
