"""What the sender needs to know about a tenant, behind a small port.

Implemented over the shared tenant registry (`wapipe.tenants`) in `app.py` when it is available; otherwise the
same policy for every tenant from settings. Tests use a dict.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from schemas.events import TemplateRef


@dataclass(frozen=True)
class SendPolicy:
    mark_as_read: bool = True
    typing: bool = True
    window_template: TemplateRef | None = None  # sent instead when the 24 h window is closed


class TenantPolicies(Protocol):
    def policy(self, tenant: str) -> SendPolicy: ...


class StaticPolicies:
    """One policy for every tenant, with optional per-tenant overrides."""

    def __init__(self, default: SendPolicy, per_tenant: dict[str, SendPolicy] | None = None) -> None:
        self.default = default
        self.per_tenant = per_tenant or {}

    def policy(self, tenant: str) -> SendPolicy:
        return self.per_tenant.get(tenant, self.default)
