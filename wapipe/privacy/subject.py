"""Who an export or erasure is about: a tenant (file name or phone_number_id) and one customer id (wa_id,
business-scoped user id, or a direct-channel `api:<id>`), with every identity the customer is known by."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from schemas.envelope import conversation_key
from wapipe.tenants import Tenant

_USER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,127}$")
_PHONE_NUMBER_ID = re.compile(r"^\d{5,20}$")


class BadSubject(ValueError):
    """Input that names no tenant or no valid customer id; the message is one line for the operator."""


class UnknownTenant(BadSubject):
    pass


class TenantLookup(Protocol):
    def get(self, phone_number_id: str) -> Tenant | None: ...

    def all(self) -> list[Tenant]: ...


@dataclass(frozen=True)
class Subject:
    tenant: str  # phone_number_id
    tenant_name: str | None  # None: no tenant file (any more) for this number
    user: str  # as asked for
    users: tuple[str, ...]  # every id of this customer at this tenant (`user` first)

    @property
    def conversations(self) -> tuple[str, ...]:
        return tuple(conversation_key(self.tenant, u) for u in self.users)

    @property
    def masked(self) -> str:
        """The customer id as the audit keeps it: its last four characters."""
        return "…" + self.user[-4:] if len(self.user) > 4 else "…"


def check_user(user: str) -> str:
    u = user.strip()
    if u.startswith("+") and u[1:].isdigit():
        u = u[1:]  # a phone number as people write it
    if not _USER.match(u):
        raise BadSubject("the customer id (--user) must be a wa_id (digits, country code first), a business-scoped "
                         "user id or api:<id>, without spaces")
    return u


def resolve_tenant(tenants: TenantLookup, tenant: str) -> tuple[str, str | None]:
    """(phone_number_id, name) for a tenant file name or phone_number_id. A phone_number_id with no tenant file
    is accepted (its data may outlive the file); anything else unknown is refused."""
    every = tenants.all()
    t = next((x for x in every if x.name == tenant), None) or tenants.get(tenant)
    if t is not None:
        return t.phone_number_id, t.name
    if _PHONE_NUMBER_ID.match(tenant):
        return tenant, None
    known = ", ".join(x.name for x in every) or "none"
    raise UnknownTenant(f"unknown tenant {tenant[:64]!r} (known: {known}; or give a phone_number_id)")


def resolve_subject(tenants: TenantLookup, tenant: str, user: str, other_ids: tuple[str, ...] = ()) -> Subject:
    """`other_ids`: the customer's other identities, when an identity mapping knows them."""
    pnid, name = resolve_tenant(tenants, tenant)
    u = check_user(user)
    users = (u, *(i for i in dict.fromkeys(other_ids) if i != u))
    return Subject(pnid, name, u, users)
