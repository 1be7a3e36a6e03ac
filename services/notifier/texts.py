"""What people on the internal numbers read (Spanish, like the businesses using wapipe). Pure functions.

Customer numbers are always masked: the operator identifies a conversation by its short `ref`, which the
operator API accepts wherever it takes a conversation key.
"""

from __future__ import annotations

from collections.abc import Sequence

from schemas.envelope import derive_id, parse_conversation_key
from schemas.events import AccountEventReceivedPayload, MessageReceivedPayload, TemplateStatusChangedPayload
from wapipe.logging import mask_phone
from wapipe.store.port import Turn

ROLE_LABEL = {"customer": "Cliente", "assistant": "Bot", "human": "Asesor"}
NON_TEXT = {"image": "imagen", "video": "video", "audio": "audio", "document": "documento", "sticker": "sticker",
            "location": "ubicación", "contacts": "contacto", "reaction": "reacción", "order": "pedido",
            "interactive": "respuesta de menú", "button": "botón", "edit": "editado", "revoke": "borró un mensaje"}
MAX_LINE = 300


def ref_of(conversation: str) -> str:
    """A short handle for a conversation that does not reveal the customer's number."""
    return derive_id("handoff-ref", conversation)[:8]


def _customer(conversation: str) -> str:
    return mask_phone(parse_conversation_key(conversation).user)


def _clip(text: str, limit: int = MAX_LINE) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def handoff_notification(*, business: str, conversation: str, reason: str, requested_by: str,
                         customer_text: str | None, turns: Sequence[Turn], ttl_s: int) -> str:
    ref = ref_of(conversation)
    lines = [f"🔔 {business}: un cliente necesita un asesor",
             f"Cliente: {_customer(conversation)} · ref {ref}",
             f"Motivo: {reason} (pedido por {requested_by})"]
    if customer_text:
        lines.append(f"Mensaje: «{_clip(customer_text)}»")
    if turns:
        lines.append("Últimos mensajes:")
        lines += [f"- {ROLE_LABEL.get(t.role, t.role)}: {_clip(t.text, 200)}" for t in turns]
    hours = max(1, round(ttl_s / 3600))
    lines += [f"El bot queda en silencio {hours} h. Responder: POST /handoffs/{ref}/reply",
              f"Devolver al bot: POST /handoffs/{ref}/release"]
    return "\n".join(lines)


def describe_message(p: MessageReceivedPayload) -> str:
    kind = NON_TEXT.get(p.message_type, p.message_type)
    if p.text:
        return _clip(p.text) if p.message_type == "text" else f"[{kind}] {_clip(p.text)}"
    return f"[{kind}]"


def relay(conversation: str, p: MessageReceivedPayload) -> str:
    return f"💬 {_customer(conversation)} (ref {ref_of(conversation)}): {describe_message(p)}"


def relay_caption(conversation: str, p: MessageReceivedPayload) -> str:
    """The caption of a customer's photo, video or document relayed as itself: who sent it, and their caption."""
    head = f"💬 {_customer(conversation)} (ref {ref_of(conversation)})"
    return f"{head}: {_clip(p.text, 900)}" if p.text else head


def relay_paused(conversation: str, limit: int, window_s: int) -> str:
    minutes = max(1, window_s // 60)
    return (f"💬 {_customer(conversation)} (ref {ref_of(conversation)}) sigue escribiendo: ya se "
            f"reenviaron {limit} mensajes en {minutes} min y los siguientes no se reenvían por ahora. "
            f"Léelos en la conversación (ref {ref_of(conversation)}).")


def delivery_alert(*, business: str, recipient: str, code: int | None, title: str | None, window_s: int) -> str:
    what = f"código {code}" if code is not None else "mensaje inválido"
    detail = f" ({_clip(title, 120)})" if title else ""
    return (f"⚠️ {business}: un mensaje para {mask_phone(recipient)} no se pudo entregar: {what}{detail}. "
            f"Alertas iguales se omiten durante {max(1, window_s // 60)} min.")


def dlq_alert(*, topic: str, grew_by: int, total: int) -> str:
    return (f"⚠️ wapipe: {grew_by} evento(s) nuevos en la cola de errores {topic} ({total} en total). "
            "Revísalos con `wapipe replay`.")


TEMPLATE_EVENTS = {"PAUSED": "fue pausada por Meta", "DISABLED": "fue desactivada por Meta",
                   "REJECTED": "fue rechazada por Meta", "APPROVED": "está aprobada y se puede usar",
                   "REINSTATED": "se puede usar de nuevo", "FLAGGED": "recibió reportes y podría desactivarse",
                   "DELETED": "fue eliminada", "PENDING_DELETION": "será eliminada", "ARCHIVED": "fue archivada",
                   "PENDING": "está en revisión", "IN_APPEAL": "está en apelación", "LOCKED": "fue bloqueada para "
                   "edición"}
BLOCKED_NOTE = "Mientras tanto el bot no la envía (los mensajes que la necesiten fallan y se avisan)."


def template_alert(business: str, p: TemplateStatusChangedPayload) -> str:
    name = f"«{p.name}» ({p.language or '-'})"
    if p.field == "message_template_status_update":
        what = TEMPLATE_EVENTS.get((p.event or "").upper(), f"cambió de estado: {p.event}")
        why = p.title or (p.reason if p.reason not in (None, "NONE") else None)
        line = f"⚠️ {business}: la plantilla {name} {what}" + (f" ({why})" if why else "") + "."
        if (p.event or "").upper() in ("PAUSED", "DISABLED", "REJECTED", "DELETED", "PENDING_DELETION", "ARCHIVED"):
            line += " " + BLOCKED_NOTE
        if p.description:
            line += f"\nMeta: {_clip(p.description, 200)}"
        return line
    if p.field == "message_template_quality_update":
        return (f"⚠️ {business}: la calidad de la plantilla {name} pasó de {p.previous_quality or '-'} a "
                f"{p.quality or '-'}.")
    if p.correct_category:
        return (f"⚠️ {business}: Meta cambiará la categoría de la plantilla {name} de {p.category or '-'} a "
                f"{p.correct_category} en 24 h (cambia su precio).")
    return (f"⚠️ {business}: la categoría de la plantilla {name} cambió de {p.previous_category or '-'} a "
            f"{p.category or '-'} (cambia su precio).")


def account_alert(business: str, p: AccountEventReceivedPayload) -> str:
    number = f" {p.display_phone_number}" if p.display_phone_number else ""
    if p.field == "phone_number_quality_update":
        limit = f" Límite actual: {p.current_limit}" + (f" (antes {p.old_limit})" if p.old_limit else "") + "." \
            if p.current_limit else ""
        return f"⚠️ {business}: Meta actualizó la calidad del número{number}: {p.event or '-'}.{limit}"
    return (f"⚠️ {business}: Meta actualizó la cuenta de WhatsApp Business: {p.event or '-'}. Revisa WhatsApp "
            "Manager.")
