"""The SQLite writer's group commit on a real database file: the writes made together share one transaction,
each caller still gets its own result or its own error, and a failing write never takes its neighbours down."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support import eventually
from wapipe.store.sqlite_writer import MAX_GROUP, GroupWriter


@pytest.fixture
def writer(tmp_path: Path) -> Iterator[tuple[GroupWriter, Path]]:
    path = tmp_path / "group.db"
    local = threading.local()

    def conn() -> sqlite3.Connection:
        if not hasattr(local, "conn"):
            local.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            local.conn.execute("PRAGMA journal_mode=WAL")
            local.conn.execute("CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)")
        return local.conn  # type: ignore[no-any-return]

    w = GroupWriter(conn)
    yield w, path
    w.shutdown()


def insert(k: str, v: int | None = 1) -> Callable[[sqlite3.Connection], int]:
    def fn(c: sqlite3.Connection) -> int:
        return c.execute("INSERT INTO t (k, v) VALUES (?, ?)", (k, v)).rowcount

    return fn


def rows(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as c:
        return dict(c.execute("SELECT k, v FROM t").fetchall())


async def idle(w: GroupWriter) -> None:
    """Until the writer thread has let go of its last group (its callers can be answered a moment before)."""
    assert await eventually(lambda: w.idle, timeout=30), "the writer never went idle"


async def test_writes_made_together_commit_in_one_transaction(writer: tuple[GroupWriter, Path]) -> None:
    w, path = writer
    await w.write(insert("warm"))
    await idle(w)
    before = w.transactions
    results = await asyncio.gather(*(w.write(insert(f"k{i}", i)) for i in range(100)))
    assert results == [1] * 100
    assert w.transactions - before == 1
    assert len(rows(path)) == 101


async def test_a_group_never_exceeds_its_bound(writer: tuple[GroupWriter, Path]) -> None:
    w, path = writer
    await w.write(insert("warm"))
    before = w.transactions
    await asyncio.gather(*(w.write(insert(f"k{i}")) for i in range(MAX_GROUP * 2 + 1)))
    assert w.transactions - before >= 3
    assert len(rows(path)) == MAX_GROUP * 2 + 2


async def test_a_failing_write_fails_alone(writer: tuple[GroupWriter, Path]) -> None:
    w, path = writer
    await w.write(insert("taken"))
    outcomes = await asyncio.gather(w.write(insert("a")), w.write(insert("taken")), w.write(insert("b", None)),
                                    w.write(insert("c")), return_exceptions=True)
    assert outcomes[0] == 1 and outcomes[3] == 1
    assert isinstance(outcomes[1], sqlite3.IntegrityError)  # the primary key
    assert isinstance(outcomes[2], sqlite3.IntegrityError)  # NOT NULL
    assert rows(path) == {"taken": 1, "a": 1, "c": 1}


async def test_a_cancelled_caller_does_not_lose_the_others_writes(writer: tuple[GroupWriter, Path]) -> None:
    w, path = writer
    started, release = threading.Event(), threading.Event()

    def held(c: sqlite3.Connection) -> int:  # keeps the writer thread busy until the others are queued
        started.set()
        release.wait(30)
        return insert("held")(c)

    first = asyncio.ensure_future(w.write(held))
    assert await eventually(started.is_set, timeout=30), "the first write never reached the writer thread"
    gone = asyncio.ensure_future(w.write(insert("gone")))
    kept = [asyncio.ensure_future(w.write(insert(f"k{i}"))) for i in range(3)]
    assert await eventually(lambda: w.queued == 4, timeout=30), "the writes were never queued"
    gone.cancel()
    release.set()
    assert await first == 1
    assert await asyncio.wait_for(asyncio.gather(*kept), 30) == [1, 1, 1]  # none left waiting
    assert {"k0", "k1", "k2"} <= set(rows(path))


async def test_writes_after_shutdown_fail_instead_of_waiting(writer: tuple[GroupWriter, Path]) -> None:
    w, _ = writer
    w.shutdown()
    with pytest.raises(RuntimeError):
        await asyncio.wait_for(w.write(insert("late")), 30)
