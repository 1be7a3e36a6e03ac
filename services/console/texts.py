"""The console's words in Spanish (the default) and English. A page asks `words(lang)` and reads by key; a key
missing from one language is a test failure (`tests/unit/console/test_texts.py`), never a blank on screen."""

from __future__ import annotations

from typing import Literal

Lang = Literal["es", "en"]
LANGS: tuple[Lang, ...] = ("es", "en")

WORDS: dict[str, dict[str, str]] = {
    "es": {
        "app": "Consola wapipe", "sign_in": "Iniciar sesión", "sign_out": "Cerrar sesión", "name": "Usuario",
        "password": "Contraseña", "bad_login": "Usuario o contraseña incorrectos.",
        "locked": "Demasiados intentos: la cuenta está bloqueada temporalmente. Inténtalo más tarde.",
        "queue": "En espera", "conversations": "Conversaciones", "waiting_for_person": "Esperando a una persona",
        "empty_queue": "Nadie espera ahora.", "reason": "Motivo", "customer": "Cliente", "waiting": "Esperando",
        "last_message": "Último mensaje", "state": "Estado", "unread": "Sin leer", "all": "Todas",
        "bot": "Bot", "human": "Persona", "waiting_state": "En espera", "search": "Buscar",
        "search_hint": "Nombre o últimos dígitos", "filter": "Filtrar", "no_conversations": "No hay conversaciones.",
        "take_over": "Tomar la conversación", "reply": "Responder", "send": "Enviar", "release": "Devolver al bot",
        "note": "Nota interna", "add_note": "Añadir nota", "quick_replies": "Respuestas rápidas",
        "history": "Historial", "trace": "Traza", "route": "Ruta", "rule": "Regla", "model": "Modelo",
        "tools": "Herramientas", "latency": "Latencia", "cost": "Coste", "taken_by": "Atendida por",
        "role_customer": "Cliente", "role_assistant": "Bot", "role_human": "Persona", "role_note": "Nota",
        "live": "En vivo", "reconnecting": "Reconectando…", "tenant": "Tienda", "forbidden": "No tienes acceso.",
        "not_found": "No encontrada.", "refused": "Solicitud rechazada (token CSRF ausente o inválido).",
        "reply_placeholder": "Escribe al cliente…", "note_placeholder": "Solo la ven las personas del equipo",
        "taken": "Conversación tomada.", "sent": "Mensaje en cola de envío.", "released": "Devuelta al bot.",
        "noted": "Nota guardada.", "language": "Idioma", "open": "Abrir", "minutes": "min", "back": "Volver",
        "skip": "Saltar al contenido", "take_first": "Toma la conversación para responder.",
        "event_taken": "Tomó la conversación", "event_released": "La devolvió al bot",
        "event_requested": "Pidió hablar con una persona",
        "tokens": "Tokens de API", "tokens_intro": "Tokens personales para la API de operadores: actúan con tu "
        "nombre y tus tiendas, y se revocan si tu cuenta se desactiva o se cambia tu contraseña.",
        "new_token": "Crear token", "token_once": "Cópialo ahora: no se volverá a mostrar.",
        "revoke": "Revocar", "revoked": "Revocado", "created": "Creado", "no_tokens": "No tienes tokens.",
        "media_down": "El almacén de archivos no responde; inténtalo de nuevo.", "transcript": "Transcripción",
        "download": "Descargar", "media_unavailable": "Archivo no disponible", "receipt": "Comprobante",
        "wallet": "Medio", "amount": "Importe", "currency": "Moneda", "reference": "Referencia", "date": "Fecha",
        "pages": "páginas", "image_text": "Texto en la imagen",
    },
    "en": {
        "app": "wapipe console", "sign_in": "Sign in", "sign_out": "Sign out", "name": "User",
        "password": "Password", "bad_login": "Wrong user or password.",
        "locked": "Too many attempts: the account is locked for a while. Try again later.",
        "queue": "Queue", "conversations": "Conversations", "waiting_for_person": "Waiting for a person",
        "empty_queue": "Nobody is waiting.", "reason": "Reason", "customer": "Customer", "waiting": "Waiting",
        "last_message": "Last message", "state": "State", "unread": "Unread", "all": "All",
        "bot": "Bot", "human": "Human", "waiting_state": "Waiting", "search": "Search",
        "search_hint": "Name or last digits", "filter": "Filter", "no_conversations": "No conversations.",
        "take_over": "Take over", "reply": "Reply", "send": "Send", "release": "Release to the bot",
        "note": "Internal note", "add_note": "Add note", "quick_replies": "Quick replies",
        "history": "History", "trace": "Trace", "route": "Route", "rule": "Rule", "model": "Model",
        "tools": "Tools", "latency": "Latency", "cost": "Cost", "taken_by": "Handled by",
        "role_customer": "Customer", "role_assistant": "Bot", "role_human": "Human", "role_note": "Note",
        "live": "Live", "reconnecting": "Reconnecting…", "tenant": "Shop", "forbidden": "You have no access.",
        "not_found": "Not found.", "refused": "Request refused (missing or invalid CSRF token).",
        "reply_placeholder": "Write to the customer…", "note_placeholder": "Only the team sees it",
        "taken": "Conversation taken.", "sent": "Message queued for sending.", "released": "Released to the bot.",
        "noted": "Note saved.", "language": "Language", "open": "Open", "minutes": "min", "back": "Back",
        "skip": "Skip to content", "take_first": "Take the conversation over to reply.",
        "event_taken": "Took the conversation over", "event_released": "Released it to the bot",
        "event_requested": "Asked for a person",
        "tokens": "API tokens", "tokens_intro": "Personal tokens for the operator API: they act under your name "
        "and shops, and are revoked when your account is disabled or your password reset.",
        "new_token": "New token", "token_once": "Copy it now: it will not be shown again.",
        "revoke": "Revoke", "revoked": "Revoked", "created": "Created", "no_tokens": "You have no tokens.",
        "media_down": "The file store does not answer; try again.", "transcript": "Transcript",
        "download": "Download", "media_unavailable": "File unavailable", "receipt": "Receipt",
        "wallet": "Wallet", "amount": "Amount", "currency": "Currency", "reference": "Reference", "date": "Date",
        "pages": "pages", "image_text": "Text in the image",
    },
}


def words(lang: str) -> dict[str, str]:
    return WORDS["en"] if lang == "en" else WORDS["es"]


def language(query: str | None, cookie: str | None, default: Lang) -> Lang:
    """`?lang=` wins, then the cookie, then the configured default."""
    for value in (query, cookie):
        if value in LANGS:
            return "en" if value == "en" else "es"
    return default
