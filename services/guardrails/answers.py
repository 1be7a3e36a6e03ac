"""Deterministic answers built from the tenant's knowledge: no model, same facts every time."""

from __future__ import annotations

from datetime import datetime

from wapipe.tenants import Tenant, is_open, next_opening, schedule_text
from wapipe.tenants.hours import when_text


def money(amount: int, currency: str = "COP") -> str:
    """15000 -> '$15.000' (Colombian thousands separator)."""
    return "$" + f"{amount:,}".replace(",", ".") if currency == "COP" else f"{amount:,} {currency}"


def hours_answer(t: Tenant, now: datetime) -> str:
    if is_open(t, now):
        status = t.wording.open_now
    else:
        nxt = next_opening(t, now)
        status = t.wording.closed_now.format(next_open=when_text(t, nxt, now) if nxt else "pronto")
    local = now.astimezone(t.zone).date()
    holiday = " Hoy es festivo." if local in t.hours.holidays else ""
    return f"{status}{holiday} Nuestro horario: {schedule_text(t)}."


def address_answer(t: Tenant) -> str:
    a = t.address
    where = ", ".join(p for p in (a.street, a.neighborhood, a.city) if p)
    ref = f" ({a.reference})" if a.reference else ""
    link = f" Mapa: {a.map_link}" if a.map_link else ""
    return f"Estamos en {where}{ref}.{link}"


def location_answer(t: Tenant) -> str:
    a = t.address
    if a.map_link:
        return f"Aquí está nuestra ubicación 📍 {a.map_link} — {a.street}, {a.city}" + (
            f" ({a.reference})." if a.reference else ".")
    return address_answer(t)


def shipping_answer(t: Tenant) -> str:
    s = t.shipping
    parts: list[str] = []
    if s.carriers:
        parts.append(f"Enviamos con {' e '.join(s.carriers) if len(s.carriers) == 2 else ', '.join(s.carriers)}.")
    if s.local_city and s.local_cost is not None:
        eta = f", {s.local_eta}" if s.local_eta else ""
        parts.append(f"En {s.local_city}: {money(s.local_cost, t.currency)}{eta}.")
    if s.national_cost is not None:
        eta = f", {s.national_eta}" if s.national_eta else ""
        parts.append(f"Resto del país: {money(s.national_cost, t.currency)}{eta}.")
    if s.free_from is not None:
        parts.append(f"Envío gratis en compras desde {money(s.free_from, t.currency)}.")
    if s.notes:
        parts.append(s.notes)
    return " ".join(parts) or t.wording.handoff


def payments_answer(t: Tenant) -> str:
    if not t.payments:
        return t.wording.handoff
    items = "; ".join(f"{p.name} ({p.detail})" if p.detail else p.name for p in t.payments)
    return f"Puedes pagar con: {items}."


def answer_for(t: Tenant, intent: str, now: datetime, faq_id: str | None = None) -> str | None:
    """The fixed answer for an intent (or FAQ), or None when this intent has none."""
    if faq_id:
        return next((f.answer for f in t.faqs if f.id == faq_id), None)
    match intent:
        case "saludo":
            return t.wording.greeting
        case "despedida":
            return t.wording.farewell
        case "agradecimiento":
            return t.wording.thanks
        case "horarios":
            return hours_answer(t, now)
        case "direccion":
            return address_answer(t)
        case "ubicacion":
            return location_answer(t)
        case "envios":
            return shipping_answer(t)
        case "pagos":
            return payments_answer(t)
    return None
