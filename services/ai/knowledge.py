"""`TenantSource` over the shared tenant registry (`config/tenants/*.yaml`): what the AI stage reads of a tenant.

The knowledge version is a hash of the whole tenant file, so editing it invalidates the answer cache.
"""

from __future__ import annotations

import hashlib

from services.ai.tenant import FAQ, TenantAI
from wapipe.tenants import Tenant, TenantRegistry, schedule_text

DEFAULT_FALLBACK = "¡Gracias por escribirnos! Ahora no puedo darte esa respuesta; un asesor te escribe pronto."


def _money(v: int | None, currency: str) -> str:
    return f"{v:,} {currency}".replace(",", ".") if v is not None else ""


def business_facts(t: Tenant) -> str:
    a = t.address
    lines = [f"Horario: {schedule_text(t)}.",
             f"Dirección: {a.street}, {a.neighborhood + ', ' if a.neighborhood else ''}{a.city}."
             + (f" {a.reference}." if a.reference else "") + (f" Mapa: {a.map_link}" if a.map_link else "")]
    s = t.shipping
    if s.carriers or s.national_eta or s.local_eta:
        lines.append(
            "Envíos: " + "; ".join(p for p in (
                f"en {s.local_city} {_money(s.local_cost, t.currency)} ({s.local_eta})" if s.local_city else "",
                f"nacional {_money(s.national_cost, t.currency)} ({s.national_eta})" if s.national_eta else "",
                f"gratis desde {_money(s.free_from, t.currency)}" if s.free_from else "",
                f"transportadoras: {', '.join(s.carriers)}" if s.carriers else "",
                (s.notes or "").rstrip(".")) if p) + ".")
    if t.payments:
        lines.append("Pagos: " + "; ".join(f"{p.name}{' (' + p.detail + ')' if p.detail else ''}"
                                           for p in t.payments) + ".")
    return "\n".join([t.ai.knowledge.strip(), *lines]).strip()


def to_ai(t: Tenant) -> TenantAI:
    wording = t.wording
    return TenantAI(
        tenant=t.phone_number_id, name=t.business_name, system_prompt=t.ai.system_prompt,
        knowledge=business_facts(t),
        faqs=tuple(FAQ(f.question, f.answer, (f.id,)) for f in t.faqs),
        knowledge_version=hashlib.sha256(t.model_dump_json().encode()).hexdigest()[:12],
        model=t.ai.model, max_output_tokens=t.ai.max_output_tokens, temperature=t.ai.temperature,
        timeout_s=t.ai.timeout_s, daily_spend_cap_usd=t.ai.daily_spend_cap_usd,
        fallback_text=getattr(wording, "fallback", None) or DEFAULT_FALLBACK, handoff_text=wording.handoff,
        allowed_hosts=tuple(t.links.allowed_hosts), tools=t.tools,
    )


class RegistryTenants:
    """Converts each tenant once per version of its file (the registry reloads edited files)."""

    def __init__(self, registry: TenantRegistry) -> None:
        self._registry = registry
        self._seen: dict[str, tuple[Tenant, TenantAI]] = {}

    def ai_settings(self, tenant: str) -> TenantAI | None:
        t = self._registry.get(tenant)
        if t is None:
            return None
        seen = self._seen.get(tenant)
        if seen is None or seen[0] is not t:
            seen = (t, to_ai(t))
            self._seen[tenant] = seen
        return seen[1]
