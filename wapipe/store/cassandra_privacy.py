"""The Cassandra store's consent and privacy methods (a mixin of `CassandraStore`) and their statements.

Consent changes (`consent_changes`, by customer) and the privacy audit (`privacy_audit`, by tenant) are written
without a TTL. Erasure deletes whole partitions where the customer owns the partition (turns, handoffs, consent,
their traces by conversation) and single rows where traces are denormalised by correlation id and by day: the
rows to delete are found through `traces_by_conversation`, which holds every trace of the conversation.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

from cassandra.query import UNSET_VALUE

from wapipe.store import codec
from wapipe.store.privacy import ConsentChange, PrivacyAudit

_CONSENT_COLS = "ts_us, status, source, actor, detail, message_id"

QUERIES = {
    "insert_consent": "INSERT INTO {ks}.consent_changes (tenant, uid, change_id, " + _CONSENT_COLS + ") "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "consent": "SELECT " + _CONSENT_COLS + " FROM {ks}.consent_changes WHERE tenant = ? AND uid = ? LIMIT ?",
    "insert_audit": "INSERT INTO {ks}.privacy_audit (tenant, ts_us, entry_id, action, actor, subject, counts) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
    "audit": "SELECT ts_us, action, actor, subject, counts FROM {ks}.privacy_audit WHERE tenant = ? LIMIT ?",
    "turn_rows": "SELECT ts_us FROM {ks}.turns WHERE tenant = ? AND uid = ?",
    "delete_turns": "DELETE FROM {ks}.turns WHERE tenant = ? AND uid = ?",
    "handoff_rows": "SELECT ts_us FROM {ks}.handoffs WHERE tenant = ? AND uid = ?",
    "delete_handoffs": "DELETE FROM {ks}.handoffs WHERE tenant = ? AND uid = ?",
    "consent_rows": "SELECT ts_us FROM {ks}.consent_changes WHERE tenant = ? AND uid = ?",
    "delete_consent": "DELETE FROM {ks}.consent_changes WHERE tenant = ? AND uid = ?",
    "revision_rows": "SELECT message_id FROM {ks}.turn_revisions WHERE tenant = ? AND uid = ?",
    "delete_revisions": "DELETE FROM {ks}.turn_revisions WHERE tenant = ? AND uid = ?",
    "user_links": "SELECT kind, id_value FROM {ks}.identities_by_user WHERE tenant = ? AND uid = ?",
    "delete_user_links": "DELETE FROM {ks}.identities_by_user WHERE tenant = ? AND uid = ?",
    "id_link": "SELECT uid FROM {ks}.identities WHERE tenant = ? AND kind = ? AND id_value = ?",
    "delete_id_link": "DELETE FROM {ks}.identities WHERE tenant = ? AND kind = ? AND id_value = ?",
    "delete_user_link": "DELETE FROM {ks}.identities_by_user WHERE tenant = ? AND uid = ? AND kind = ? "
                        "AND id_value = ?",
    "conv_trace_rows": "SELECT ts_us, trace_id, body FROM {ks}.traces_by_conversation "
                       "WHERE tenant = ? AND conversation = ?",
    "delete_trace_corr": "DELETE FROM {ks}.traces_by_correlation WHERE correlation_id = ? AND ts_us = ? "
                         "AND trace_id = ?",
    "delete_trace_day": "DELETE FROM {ks}.traces_by_day WHERE tenant = ? AND day = ? AND bucket = ? AND ts_us = ? "
                        "AND trace_id = ?",
    "delete_traces_conv": "DELETE FROM {ks}.traces_by_conversation WHERE tenant = ? AND conversation = ?",
}


def _unset(value: str | None) -> Any:
    return UNSET_VALUE if value is None else value


class CassandraPrivacy:
    """Needs `_run(name, params)` and `config.trace_buckets` from the store."""

    config: Any

    async def _run(self, name: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    # -- consent -------------------------------------------------------------------------------------------------

    async def record_consent(self, change: ConsentChange) -> None:
        # A missing detail or message id is left unset: binding null would write a tombstone into a table
        # that never expires.
        await self._run("insert_consent", (change.tenant, change.user, codec.consent_id(change),
                                           codec.to_us(change.ts), change.status, change.source, change.actor,
                                           _unset(change.detail), _unset(change.message_id)))

    async def consent(self, tenant: str, user: str) -> ConsentChange | None:
        found = await self.consent_history(tenant, user, limit=1)
        return found[0] if found else None

    async def consent_history(self, tenant: str, user: str, limit: int = 100) -> list[ConsentChange]:
        rows = await self._run("consent", (tenant, user, limit))  # clustered newest first
        return [ConsentChange(tenant, user, codec.from_us(ts), status, source, actor, detail, mid)
                for ts, status, source, actor, detail, mid in reversed(rows)]

    # -- erasure and its audit -----------------------------------------------------------------------------------

    async def erase_customer(self, tenant: str, users: Sequence[str], conversations: Sequence[str]) -> dict[str, int]:
        counts = {"turns": 0, "revisions": 0, "traces": 0, "handoffs": 0, "consent": 0, "identities": 0}
        for user in users:
            for kind, rows, delete in (("turns", "turn_rows", "delete_turns"),
                                       ("revisions", "revision_rows", "delete_revisions"),
                                       ("handoffs", "handoff_rows", "delete_handoffs"),
                                       ("consent", "consent_rows", "delete_consent")):
                counts[kind] += len(await self._run(rows, (tenant, user)))
                await self._run(delete, (tenant, user))
            counts["identities"] += await self._erase_links(tenant, user)
        for conversation in conversations:
            counts["traces"] += await self._erase_traces(tenant, conversation)
        return counts

    async def _erase_links(self, tenant: str, user: str) -> int:
        """The identity links to `user` (both tables), and the links of `user` as an id to anyone."""
        found = 0
        for kind, value in await self._run("user_links", (tenant, user)):
            found += len(await self._run("id_link", (tenant, kind, value)))
            await self._run("delete_id_link", (tenant, kind, value))
        await self._run("delete_user_links", (tenant, user))
        for kind in ("wa_id", "user_id"):
            for (owner,) in await self._run("id_link", (tenant, kind, user)):
                found += 1
                await self._run("delete_user_link", (tenant, owner, kind, user))
                await self._run("delete_id_link", (tenant, kind, user))
        return found

    async def _erase_traces(self, tenant: str, conversation: str) -> int:
        rows = await self._run("conv_trace_rows", (tenant, conversation))
        for ts, tid, body in rows:
            trace = codec.trace_from_body(body)
            day = codec.from_us(ts).strftime("%Y-%m-%d")
            bucket = codec.bucket_of(trace.correlation_id, self.config.trace_buckets)
            await asyncio.gather(self._run("delete_trace_corr", (trace.correlation_id, ts, tid)),
                                 self._run("delete_trace_day", (tenant, day, bucket, ts, tid)))
        # The lookup table goes last: a failure above leaves it in place, so a retry finds the same rows again.
        await self._run("delete_traces_conv", (tenant, conversation))
        return len(rows)

    async def append_privacy_audit(self, entry: PrivacyAudit) -> None:
        await self._run("insert_audit", (entry.tenant, codec.to_us(entry.ts), codec.audit_id(entry), entry.action,
                                         entry.actor, entry.subject, json.dumps(entry.counts, sort_keys=True)))

    async def privacy_audit(self, tenant: str, limit: int = 100) -> list[PrivacyAudit]:
        rows = await self._run("audit", (tenant, limit))
        return [PrivacyAudit(tenant, codec.from_us(ts), action, actor, subject, dict(json.loads(counts)))
                for ts, action, actor, subject, counts in reversed(rows)]
