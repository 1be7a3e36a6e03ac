"""The SQLite store's one writer thread, with group commit.

Every write is a function of the writer's connection. The writes queued while the thread is busy, or in the same
turn of an event loop, run in one transaction: one hand-over to the thread, one lock of the file and one commit
for all of them, instead of one of each per write (a reply writes a turn and a trace; under load many replies
write at once). A caller's await returns once its own write is committed, as before. When any write of a group
fails, the group is rolled back and each write runs again in its own transaction, so only the failing one's caller
sees its error. Writes are functions of the connection and nothing else, so running one twice is safe.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from wapipe.handover import Handed, hand_over

T = TypeVar("T")
MAX_GROUP = 256  # writes per transaction at most: a long one would hold the file's lock from the other processes


@dataclass(frozen=True)
class _Write:
    fn: Callable[[sqlite3.Connection], Any]
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop


class GroupWriter:
    def __init__(self, conn: Callable[[], sqlite3.Connection]) -> None:
        self._conn = conn
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="wapipe-sqlite-writer")
        self._lock = threading.Lock()
        self._queue: list[_Write] = []
        self._draining = False
        self.transactions = 0  # committed or rolled back, counted by the writer thread (tests read it)

    async def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn` in a write transaction, together with the writes queued beside it; its result once committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        with self._lock:
            self._queue.append(_Write(fn, future, loop))
            start = not self._draining
            self._draining = True
        if start:  # after the callbacks already due: the writes this turn of the loop makes go in one group
            loop.call_soon(self._start)
        return await future

    @property
    def idle(self) -> bool:
        """Nothing queued and the writer thread done with its last group."""
        with self._lock:
            return not self._draining

    @property
    def queued(self) -> int:
        """Writes waiting for the writer thread to take them into a group."""
        with self._lock:
            return len(self._queue)

    async def run(self, fn: Callable[[], T]) -> T:
        """`fn` alone on the writer thread, outside any group (migrations, pragmas, checkpoints)."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True)

    def _start(self) -> None:
        try:
            self._executor.submit(self._drain)
        except RuntimeError as e:  # shut down: fail what is queued rather than leave it waiting
            with self._lock:
                queued, self._queue, self._draining = self._queue, [], False
            hand_over((w.loop, w.future, e) for w in queued)

    # -- the writer thread ---------------------------------------------------------------------------------------

    def _drain(self) -> None:
        while True:
            with self._lock:
                group, self._queue = self._queue[:MAX_GROUP], self._queue[MAX_GROUP:]
                if not group:
                    self._draining = False
                    return
            hand_over(self._commit(group))

    def _commit(self, group: list[_Write]) -> list[Handed]:
        """Each write's result, or the exception it raised (`hand_over` fails its future with it)."""
        if len(group) > 1:
            try:
                results = self._tx(lambda conn: [w.fn(conn) for w in group])
            except Exception:  # one of them failed (or the commit): each again on its own
                pass
            else:
                return [(w.loop, w.future, r) for w, r in zip(group, results, strict=True)]
        outcomes: list[Handed] = []
        for w in group:
            try:
                outcomes.append((w.loop, w.future, self._tx(w.fn)))
            except Exception as e:
                outcomes.append((w.loop, w.future, e))
        return outcomes

    def _tx(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        conn = self._conn()
        self.transactions += 1
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = fn(conn)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return result

