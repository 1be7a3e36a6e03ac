"""Who is signed in: the sign-in decision (password, disabled account, lockout) and the operator behind a session
cookie. Every sign-in, refusal, lockout and sign-out goes to the operators' audit (`OperatorEvent`) under the name
that was typed (never the password)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from services.console.lockout import LoginLimiter
from services.console.metrics import ConsoleMetrics
from services.console.session import Session, Sessions
from wapipe.access import NAME, Scope
from wapipe.accounts import needs_rehash, scope_of, verify, with_password
from wapipe.store.accounts import OperatorAccount, OperatorAccountStore, OperatorEvent

log = logging.getLogger(__name__)
Outcome = Literal["ok", "bad", "locked"]


@dataclass(frozen=True)
class Operator:
    account: OperatorAccount
    session: Session

    @property
    def scope(self) -> Scope:
        return scope_of(self.account)

    @property
    def name(self) -> str:
        return self.account.name

    @property
    def admin(self) -> bool:
        return self.account.role == "admin"


@dataclass
class Auth:
    accounts: OperatorAccountStore
    limiter: LoginLimiter
    sessions: Sessions
    metrics: ConsoleMetrics

    async def _audit(self, name: str, action: str, detail: str | None = None) -> None:
        await self.accounts.append_operator_event(OperatorEvent(datetime.now(UTC), name, action, name, detail))

    async def sign_in(self, name: str, password: str, address: str) -> tuple[Outcome, Session | None]:
        """`locked` while the account or address is locked (even with the right password), `bad` for a wrong
        name or password or a disabled account (one answer for all three: nothing is confirmed)."""
        name = name.strip()[:64]
        audited = name if NAME.match(name) else "(invalid name)"
        if await self.limiter.locked(name, address):
            self.metrics.sign_ins.labels("locked").inc()
            await self._audit(audited, "sign_in_refused", f"locked, from {address}")
            return "locked", None
        account = await self.accounts.operator_account(name) if NAME.match(name) else None
        if account is None or account.disabled_at is not None or not verify(account, password):
            locked_now = await self.limiter.failed(name, address)
            self.metrics.sign_ins.labels("refused").inc()
            await self._audit(audited, "sign_in_refused", f"from {address}")
            if locked_now:
                log.warning("console: sign-in locked for %s after repeated failures", audited)
                await self._audit(audited, "locked", f"from {address}")
                return "locked", None
            return "bad", None
        await self.limiter.succeeded(name)
        if needs_rehash(account):
            await self.accounts.put_operator_account(with_password(account, password, account.password_set_at))
        self.metrics.sign_ins.labels("ok").inc()
        await self._audit(name, "signed_in", f"from {address}")
        return "ok", self.sessions.new(name)

    async def sign_out(self, operator: Operator) -> None:
        await self._audit(operator.name, "signed_out")

    async def operator(self, cookie: str | None) -> Operator | None:
        """The operator of a valid session: signed by us, not expired, of an enabled account whose password was
        not reset since."""
        session = self.sessions.decode(cookie)
        if session is None:
            return None
        account = await self.accounts.operator_account(session.name)
        if account is None or account.disabled_at is not None:
            return None
        if account.password_set_at.timestamp() > session.issued_at:
            return None
        return Operator(account, session)
