"""Who may act on which tenants' conversations: operator scopes and the API tokens that carry them.

A `Scope` is a name and a set of tenants (phone_number_ids), or every tenant (`"*"`). The notifier's operator API
authorises each request against the tenant of the conversation it touches; the operator console's accounts carry
the same scope (an `admin` every tenant, an `agent` their own). API tokens are random (256 bits) and stored only as
their sha256 (`OperatorToken` in the conversation store): a slow password hash buys nothing for a secret that
cannot be guessed, and a lookup by hash needs no per-token salt. `WAPIPE_ADMIN_TOKEN` stays as the bootstrap /
break-glass credential with every tenant.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from wapipe.store.port import OperatorToken

ALL_TENANTS = "*"
TOKEN_PREFIX = "wapipe_op_"
NAME = re.compile(r"^[A-Za-z0-9._@\-]{1,64}$")
TENANT = re.compile(r"^\d{5,20}$")
ADMIN_CREDENTIAL = "admin token"


class InvalidScope(ValueError):
    pass


@dataclass(frozen=True)
class Scope:
    """An authenticated operator: `name` (what the audit records), the tenants they may act on, and the credential
    that proved it (`admin token`, or `token <id>`)."""

    name: str
    tenants: frozenset[str]
    credential: str

    @property
    def all_tenants(self) -> bool:
        return ALL_TENANTS in self.tenants

    def allows(self, tenant: str) -> bool:
        return self.all_tenants or tenant in self.tenants

    def describe(self) -> str:
        return "every tenant" if self.all_tenants else ", ".join(sorted(self.tenants))

    @classmethod
    def admin(cls, name: str = "admin") -> Scope:
        return cls(name, frozenset({ALL_TENANTS}), ADMIN_CREDENTIAL)

    @classmethod
    def of_token(cls, token: OperatorToken) -> Scope:
        return cls(token.name, token.tenants, f"token {token.token_id}")


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise InvalidScope(f"operator name must be 1-64 of A-Z a-z 0-9 . _ @ -, got {name!r}")
    return name


def check_tenants(tenants: Iterable[str]) -> frozenset[str]:
    """`["*"]` (every tenant) or phone_number_ids; never both, never none."""
    found = frozenset(t.strip() for t in tenants)
    if found == {ALL_TENANTS}:
        return found
    if not found:
        raise InvalidScope("a token needs at least one tenant (or every tenant)")
    if ALL_TENANTS in found:
        raise InvalidScope("'*' (every tenant) cannot be combined with single tenants")
    bad = sorted(t for t in found if not TENANT.match(t))
    if bad:
        raise InvalidScope(f"a tenant is its phone_number_id (digits): {', '.join(bad)}")
    return found


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(token: str) -> bool:
    """Cheap shape check before a store lookup (a random guess never costs a query)."""
    return token.startswith(TOKEN_PREFIX) and 40 <= len(token) <= 80


def new_token(name: str, tenants: Iterable[str], now: datetime | None = None) -> tuple[str, OperatorToken]:
    """A fresh token (shown once) and the record to store, which holds only its hash."""
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    digest = hash_token(plain)
    record = OperatorToken(token_id=digest[:12], token_hash=digest, name=check_name(name),
                           tenants=check_tenants(tenants), created_at=now or datetime.now(UTC))
    return plain, record
