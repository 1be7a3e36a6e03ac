"""The consent and privacy ports of `MemoryStore` (a mixin), held to the same contract suite as the backends:
consent changes never expire, erasure deletes a customer's rows (expired ones too), the audit is kept for good."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from wapipe.store import codec
from wapipe.store.privacy import ConsentChange, PrivacyAudit


class MemoryPrivacy:
    _turns: dict[str, Any]
    _traces: dict[str, Any]
    _handoffs: dict[str, Any]
    _revisions: dict[tuple[str, str, str], Any]
    _links: dict[tuple[str, str, str], Any]

    @property
    def _consent_rows(self) -> dict[str, tuple[int, int, ConsentChange]]:
        return self.__dict__.setdefault("_consent", {})  # type: ignore[no-any-return]

    @property
    def _audit_rows(self) -> dict[str, tuple[int, int, PrivacyAudit]]:
        return self.__dict__.setdefault("_audit", {})  # type: ignore[no-any-return]

    def _next(self) -> int:
        self.__dict__["_privacy_seq"] = self.__dict__.get("_privacy_seq", 0) + 1
        return int(self.__dict__["_privacy_seq"])

    async def record_consent(self, change: ConsentChange) -> None:
        c = ConsentChange(change.tenant, change.user, codec.from_us(codec.to_us(change.ts)), change.status,
                          change.source, change.actor, change.detail, change.message_id)
        self._consent_rows.setdefault(codec.consent_id(c), (codec.to_us(c.ts), self._next(), c))

    async def consent_history(self, tenant: str, user: str, limit: int = 100) -> list[ConsentChange]:
        rows = sorted(r for r in self._consent_rows.values() if (r[2].tenant, r[2].user) == (tenant, user))
        return [c for _, _, c in rows[-limit:]] if limit > 0 else []

    async def consent(self, tenant: str, user: str) -> ConsentChange | None:
        found = await self.consent_history(tenant, user, limit=1)
        return found[0] if found else None

    async def erase_customer(self, tenant: str, users: Sequence[str], conversations: Sequence[str]) -> dict[str, int]:
        def drop(table: dict[str, Any], belongs: Any) -> int:
            keys = [k for k, row in table.items() if belongs(row)]
            for k in keys:
                del table[k]
            return len(keys)

        def trace_of(row: Any) -> bool:
            t = codec.trace_from_body(row.record)
            return bool(t.tenant == tenant and t.conversation in conversations)

        revisions = [k for k in self._revisions if k[0] == tenant and k[1] in users]
        for k in revisions:
            del self._revisions[k]
        links = [k for k, link in self._links.items() if k[0] == tenant and (link.user in users or k[2] in users)]
        for k in links:
            del self._links[k]
        return {
            "revisions": len(revisions), "identities": len(links),
            "turns": drop(self._turns, lambda r: r.record["tenant"] == tenant and r.record["user"] in users),
            "traces": drop(self._traces, trace_of),
            "handoffs": drop(self._handoffs, lambda r: r.record.tenant == tenant and r.record.user in users),
            "consent": drop(self._consent_rows, lambda r: r[2].tenant == tenant and r[2].user in users),
        }

    async def append_privacy_audit(self, entry: PrivacyAudit) -> None:
        e = PrivacyAudit(entry.tenant, codec.from_us(codec.to_us(entry.ts)), entry.action, entry.actor,
                         entry.subject, dict(entry.counts))
        self._audit_rows.setdefault(codec.audit_id(e), (codec.to_us(e.ts), self._next(), e))

    async def privacy_audit(self, tenant: str, limit: int = 100) -> list[PrivacyAudit]:
        rows = sorted((r for r in self._audit_rows.values() if r[2].tenant == tenant), key=lambda r: r[:2])
        return [e for _, _, e in rows[-limit:]] if limit > 0 else []
