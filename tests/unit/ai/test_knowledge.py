from services.ai.guard import check
from services.ai.knowledge import RegistryTenants
from wapipe.tenants import TenantRegistry


def test_demo_tenant_becomes_ai_settings_with_its_knowledge() -> None:
    registry = TenantRegistry("config/tenants")
    tenant = registry.all()[0]
    ai = RegistryTenants(registry).ai_settings(tenant.phone_number_id)
    assert ai is not None and ai.system_prompt == tenant.ai.system_prompt
    assert ai.handoff_text == tenant.wording.handoff and len(ai.faqs) == len(tenant.faqs)
    assert "Horario:" in ai.knowledge and tenant.address.city in ai.knowledge
    assert (ai.max_output_tokens, ai.timeout_s) == (tenant.ai.max_output_tokens, tenant.ai.timeout_s)
    # links in the tenant's own knowledge may be sent; others may not
    if tenant.address.map_link:
        assert check(f"Aquí el mapa: {tenant.address.map_link}", ai) is None
    assert check("Mira https://otra-tienda.example/promo", ai) == "unknown_link"
    assert RegistryTenants(registry).ai_settings("999") is None
