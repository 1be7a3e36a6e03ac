"""The port of the operator console's accounts (`OperatorAccountStore`) and of the operators' own audit trail
(sign-ins, sign-outs, refusals, lockouts and account changes), kept in the conversation store's backends beside the
operator API tokens. Accounts and their audit never expire: an account is disabled, not deleted.

An account's `tenants` holds phone_number_ids, or `"*"` alone for every tenant (`role` admin). `password_hash` is
an argon2id hash (`wapipe.accounts`); the password itself is never stored nor logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

AccountRole = Literal["admin", "agent"]


@dataclass(frozen=True)
class OperatorAccount:
    name: str  # what the audit records: 1-64 of A-Z a-z 0-9 . _ @ -
    role: AccountRole
    tenants: frozenset[str]
    password_hash: str
    created_at: datetime
    password_set_at: datetime  # sessions signed before it are refused (a reset signs everyone out)
    disabled_at: datetime | None = None


@dataclass(frozen=True)
class OperatorEvent:
    """One line of the operators' audit: `action` signed_in, sign_in_refused, locked, signed_out, added, disabled,
    password_reset; `actor` who did it (the operator, or `cli` for the command line)."""

    ts: datetime
    name: str
    action: str
    actor: str
    detail: str | None = None


class OperatorAccountStore(Protocol):
    """Console accounts by name (a write replaces the whole record) and the operators' audit (idempotent)."""

    async def put_operator_account(self, account: OperatorAccount) -> None: ...

    async def operator_account(self, name: str) -> OperatorAccount | None: ...

    async def operator_accounts(self) -> list[OperatorAccount]:
        """Every account, oldest first."""
        ...

    async def append_operator_event(self, event: OperatorEvent) -> None: ...

    async def operator_events(self, limit: int = 100) -> list[OperatorEvent]:
        """The newest `limit` events, oldest first."""
        ...
