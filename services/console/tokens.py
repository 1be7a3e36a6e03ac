"""Personal API tokens on the console: an operator mints and revokes their own operator-API tokens. A token is made
with the account's tenants and named after it, so it carries the account's scope and dies with its access
(`wapipe.accounts.token_scope`: refused once the account is disabled or its password reset). The token is shown
once, when minted; only its sha256 is kept. Every mint and revocation goes to the operators' audit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from wapipe.access import new_token
from wapipe.store.accounts import OperatorAccount, OperatorEvent
from wapipe.store.port import OperatorToken, OperatorTokenStore


class TokenAudit(OperatorTokenStore, Protocol):
    async def append_operator_event(self, event: OperatorEvent) -> None: ...


@dataclass
class PersonalTokens:
    store: TokenAudit

    async def mine(self, account: OperatorAccount) -> list[OperatorToken]:
        """The account's tokens, newest first (revoked ones too, marked)."""
        return [t for t in reversed(await self.store.operator_tokens()) if t.name == account.name]

    async def mint(self, account: OperatorAccount) -> tuple[str, OperatorToken]:
        plain, record = new_token(account.name, account.tenants)
        await self.store.add_operator_token(record)
        await self._audit(account, "token_added", record.token_id)
        return plain, record

    async def revoke(self, account: OperatorAccount, token_id: str) -> bool:
        """Revoke one of the account's own tokens; False for another's or an unknown id (nothing changes)."""
        if not any(t.token_id == token_id for t in await self.mine(account)):
            return False
        await self.store.revoke_operator_token(token_id, datetime.now(UTC))
        await self._audit(account, "token_revoked", token_id)
        return True

    async def _audit(self, account: OperatorAccount, action: str, token_id: str) -> None:
        await self.store.append_operator_event(OperatorEvent(datetime.now(UTC), account.name, action, account.name,
                                                             f"token {token_id}"))
