"""Moving one customer's records to another user of the same tenant (their identity changed), in SQLite: one
transaction on the store's writer thread (`SQLiteStore.move_conversation`)."""

from __future__ import annotations

import json
import sqlite3

from wapipe.store import codec
from wapipe.store.port import HandoffEntry, Turn


def move_user(tenant: str, src: str, dst: str, c: sqlite3.Connection) -> int:
    """One transaction: copy every record of `src` under `dst` (ids derived again, expiry kept), delete `src`'s."""
    moved = 0
    for ts, role, text, ids, expires in c.execute(
            "SELECT ts_us, role, text, message_ids, expires_at FROM turns WHERE tenant = ? AND user = ?",
            (tenant, src)).fetchall():
        tid = codec.turn_id(Turn(tenant, dst, codec.from_us(ts), role, text, tuple(json.loads(ids))))
        c.execute("INSERT INTO turns (turn_id, tenant, user, ts_us, role, text, message_ids, expires_at) "
                  "VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(turn_id) DO NOTHING",
                  (tid, tenant, dst, ts, role, text, ids, expires))
        moved += 1
    for ts, action, actor, reason, detail, expires in c.execute(
            "SELECT ts_us, action, actor, reason, detail, expires_at FROM handoffs WHERE tenant = ? AND user = ?",
            (tenant, src)).fetchall():
        eid = codec.handoff_id(HandoffEntry(tenant, dst, codec.from_us(ts), action, actor, reason, detail))
        c.execute("INSERT INTO handoffs (entry_id, tenant, user, ts_us, action, actor, reason, detail, expires_at) "
                  "VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(entry_id) DO NOTHING",
                  (eid, tenant, dst, ts, action, actor, reason, detail, expires))
        moved += 1
    moved += c.execute(
        "INSERT INTO turn_revisions (tenant, user, message_id, text, deleted, at_us, expires_at) "
        "SELECT tenant, ?, message_id, text, deleted, at_us, expires_at FROM turn_revisions "
        "WHERE tenant = ? AND user = ? ON CONFLICT(tenant, user, message_id) DO NOTHING",
        (dst, tenant, src)).rowcount
    for table in ("turns", "handoffs", "turn_revisions"):
        c.execute(f"DELETE FROM {table} WHERE tenant = ? AND user = ?", (tenant, src))
    return moved
