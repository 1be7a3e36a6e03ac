"""The Cassandra store's turn revisions and conversation moves.

Revisions (`turn_revisions`, by (tenant, uid), one row per message id) are written `USING TIMESTAMP` = the edit's
own time, so the newest edit wins whatever order they arrive in; a deletion sets `deleted`, which no edit writes,
so it is final. A move copies each row with its remaining TTL (and a revision with its write time), then deletes
the old partitions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from wapipe.store import codec
from wapipe.store.port import HandoffEntry, Turn

QUERIES = {
    "revise": "UPDATE {ks}.turn_revisions USING TTL ? AND TIMESTAMP ? SET rev_text = ?, at_us = ? "
              "WHERE tenant = ? AND uid = ? AND message_id = ?",
    "revise_delete": "UPDATE {ks}.turn_revisions USING TTL ? AND TIMESTAMP ? SET rev_text = '', deleted = true, "
                     "at_us = ? WHERE tenant = ? AND uid = ? AND message_id = ?",
    "revisions": "SELECT message_id, rev_text, deleted, at_us FROM {ks}.turn_revisions WHERE tenant = ? AND uid = ?",
    "revisions_for_move": "SELECT message_id, rev_text, deleted, at_us, TTL(at_us), WRITETIME(at_us) "
                          "FROM {ks}.turn_revisions WHERE tenant = ? AND uid = ?",
    "revision_copy": "INSERT INTO {ks}.turn_revisions (tenant, uid, message_id, rev_text, deleted, at_us) "
                     "VALUES (?, ?, ?, ?, ?, ?) USING TTL ? AND TIMESTAMP ?",
    "turns_for_move": "SELECT ts_us, turn_role, turn_text, message_ids, TTL(turn_text) FROM {ks}.turns "
                      "WHERE tenant = ? AND uid = ?",
    "handoffs_for_move": "SELECT ts_us, action, actor, reason, detail, TTL(action) FROM {ks}.handoffs "
                         "WHERE tenant = ? AND uid = ?",
    "drop_turns": "DELETE FROM {ks}.turns WHERE tenant = ? AND uid = ?",
    "drop_revisions": "DELETE FROM {ks}.turn_revisions WHERE tenant = ? AND uid = ?",
    "drop_handoffs": "DELETE FROM {ks}.handoffs WHERE tenant = ? AND uid = ?",
}


class CassandraTurns:
    _ttl: int

    async def _run(self, name: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    async def _revisions(self, tenant: str, user: str) -> list[codec.Revision]:
        rows = await self._run("revisions", (tenant, user))
        return [codec.Revision(m, text or "", bool(deleted), int(at or 0)) for m, text, deleted, at in rows]

    async def revise_turn(self, tenant: str, user: str, message_id: str, text: str | None, at: datetime) -> None:
        at_us = codec.to_us(at)
        if text is None:
            await self._run("revise_delete", (self._ttl, at_us, at_us, tenant, user, message_id))
        else:
            await self._run("revise", (self._ttl, at_us, text, at_us, tenant, user, message_id))

    async def move_conversation(self, tenant: str, from_user: str, to_user: str) -> int:
        if from_user == to_user:
            return 0
        moved = 0
        for ts, role, text, ids, ttl in await self._run("turns_for_move", (tenant, from_user)):
            t = Turn(tenant, to_user, codec.from_us(ts), role, text, tuple(ids or ()))
            await self._run("insert_turn", (tenant, to_user, ts, codec.turn_id(t), role, text, list(t.message_ids),
                                            ttl or self._ttl))
            moved += 1
        for ts, action, actor, reason, detail, ttl in await self._run("handoffs_for_move", (tenant, from_user)):
            h = HandoffEntry(tenant, to_user, codec.from_us(ts), action, actor, reason, detail)
            await self._run("insert_handoff", (tenant, to_user, ts, codec.handoff_id(h), action, actor, reason, detail,
                                               ttl or self._ttl))
            moved += 1
        for mid, text, deleted, at, ttl, written in await self._run("revisions_for_move", (tenant, from_user)):
            await self._run("revision_copy", (tenant, to_user, mid, text, deleted, at, ttl or self._ttl, written))
            moved += 1
        for name in ("drop_turns", "drop_handoffs", "drop_revisions"):
            await self._run(name, (tenant, from_user))
        return moved
