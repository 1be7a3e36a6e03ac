"""What the sender needs to know about a tenant, behind a small port.

`RegistryPolicies` reads the shared tenant files (`wapipe.tenants`); `StaticPolicies` gives the same policy (from
settings) to every tenant, and is what tests use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from schemas.events import TemplateRef
from wapipe.tenants import TenantRegistry


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


class RegistryPolicies:
    """Policies from the shared tenant files (`sender:` flags, `window_template`); unknown tenants get `default`."""

    def __init__(self, registry: TenantRegistry, default: SendPolicy) -> None:
        self.registry = registry
        self.default = default

    def policy(self, tenant: str) -> SendPolicy:
        t = self.registry.get(tenant)
        if t is None:
            return self.default
        tpl = t.window_template
        return SendPolicy(mark_as_read=t.sender.mark_as_read, typing=t.sender.typing,
                          window_template=TemplateRef(name=tpl.name, language=tpl.language) if tpl
                          else self.default.window_template)
