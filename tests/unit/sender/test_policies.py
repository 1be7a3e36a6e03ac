"""Per-tenant sending policy comes from the tenant files; unknown tenants get the default."""

from __future__ import annotations

from pathlib import Path

from schemas.events import TemplateRef
from services.sender.ports import RegistryPolicies, SendPolicy
from wapipe.tenants import TenantRegistry

TENANTS = Path(__file__).parents[3] / "config" / "tenants"


def test_demo_tenant_policy_and_default() -> None:
    default = SendPolicy(mark_as_read=False, typing=False, window_template=TemplateRef(name="generic"))
    policies = RegistryPolicies(TenantRegistry(TENANTS), default)
    demo = policies.policy("100000000000001")
    tenant = TenantRegistry(TENANTS).get("100000000000001")
    assert tenant is not None
    assert (demo.mark_as_read, demo.typing) == (tenant.sender.mark_as_read, tenant.sender.typing)
    expected = tenant.window_template.name if tenant.window_template else "generic"
    assert demo.window_template is not None and demo.window_template.name == expected
    assert policies.policy("999") is default
