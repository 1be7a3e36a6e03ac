"""SQLite erasure leaves no copy of the erased text in the database file or its WAL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from wapipe.store import ConsentChange, HandoffEntry, TraceRecord, Turn
from wapipe.store.sqlite import SQLiteStore

SECRET = "mi cédula es 1020304050 y vivo en la Calle 123"


def _bytes(db: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (db, db.with_name(db.name + "-wal")) if p.exists())


async def test_erased_text_is_not_left_in_free_pages_or_the_wal(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    store = SQLiteStore(db, purge_interval=0)
    now = datetime.now(UTC)
    user, conv = "573008880000", "100000000000001:573008880000"
    for i in range(50):  # enough rows to fill whole pages
        await store.append_turn(Turn("100000000000001", user, now, "customer", f"{SECRET} #{i}", (f"wamid.{i}",)))
        await store.write_trace(TraceRecord("100000000000001", conv, f"wamid.{i}", now, "replied",
                                            attrs={"note": SECRET}))
    await store.append_handoff(HandoffEntry("100000000000001", user, now, "requested", "guardrails", detail=SECRET))
    await store.record_consent(ConsentChange("100000000000001", user, now, "opted_out", "keyword", "customer",
                                             SECRET))
    await store.append_turn(Turn("100000000000001", "other", now, "customer", "otro cliente"))
    assert SECRET.encode() in _bytes(db)

    await store.erase_customer("100000000000001", [user], [conv])

    assert SECRET.encode() not in _bytes(db)
    assert [t.text for t in await store.last_turns("100000000000001", "other")] == ["otro cliente"]
    await store.close()
