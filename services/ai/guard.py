"""Output guard: what the model wrote must be safe to send to a customer, else the deterministic fallback.

Refused: empty answers, refusal-looking answers, secrets (keys, tokens, passwords), the instructions themselves
(a run of words from the tenant's system prompt or the rules), links (bare domains included, `links.py`) to a host
that is not one of the tenant's allowed hosts or a subdomain of one, and phone numbers or e-mail addresses that are
not the business's own (another customer's data must never leak into a reply), and prices that are in neither
the tenant's knowledge nor the tool results the model read (`prices.py`): a price is never invented.
`check_reason` applies the link and secret checks to the handoff reason the model writes, which the tenant's
staff read.

`injection` is the input side: messages that plainly try to extract the instructions, secrets or other customers'
data skip the model and get the deterministic fallback (the model is not trusted to refuse).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from services.ai import links, prices
from services.ai.prompt import RULES
from services.ai.tenant import TenantAI

MAX_ANSWER_CHARS = 1000

_REFUSAL = re.compile(
    r"(as an ai|i'?m sorry,? but i can(no|')t|i can(no|')t (help|assist) with|como (modelo|inteligencia artificial|"
    r"ia)\b|no puedo (ayudarte|ayudar|responder|proporcionar)|lo siento,? (pero )?no puedo)", re.I)
_SECRET = re.compile(
    r"(sk-[A-Za-z0-9_-]{16,}|AKIA[0-9A-Z]{16}|EAA[A-Za-z0-9]{20,}|xox[bp]-[A-Za-z0-9-]{10,}|-----BEGIN [A-Z ]*KEY"
    r"|\b(api[_ -]?key|password|contraseña|access[_ ]token|secret)\b\s*[:=])", re.I)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_PHONE = re.compile(r"\+?\d[\d ().-]{6,}\d")


# A leak is this many consecutive words of the instructions (short prompts: the whole prompt). Shorter runs are
# normal: an answer may well say "una tienda de ropa y calzado en Bogotá".
LEAK_WORDS = 10
_REVEAL = (r"(muestra|muestrame|ensena|ensename|dime|decime|revela|revelame|repite|repiteme|imprime|escribe|copia|"
           r"pega|dame|comparte|cual(es)? (es|son)|show|reveal|print|repeat|tell|give|what (is|are))")
_INJECTION = re.compile("|".join((
    r"\b(ignora|olvida|omite|desobedece|ignore|forget|disregard)\w*\b.{0,40}\b(instruc\w*|reglas|indicaciones|"
    r"prompt|rules)",
    rf"\b{_REVEAL}\b.{{0,40}}\b(prompt|system message|mensaje (del|de) sistema|instruc\w*|configuracion)",
    rf"\b{_REVEAL}\b.{{0,40}}\b(api ?key|clave (de (la )?)?api|token|contrasena|password|credencial\w*|secret\w*)",
    r"\b(datos|numeros?|telefonos?|celular\w*|correos?|emails?|direccion\w*|pedidos?|informacion|nombres?|"
    r"contactos?)\b.{0,30}\b(otros? clientes?|otras? personas|otros? usuarios|demas clientes|clientes? anterior\w*|"
    r"other (customers?|users?))",
)))


def _plain(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text.lower()) if unicodedata.category(c) != "Mn")


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", _plain(text))


def injection(text: str) -> bool:
    """Does the customer's message try to extract the instructions, a secret or other customers' data?"""
    return bool(_INJECTION.search(re.sub(r"\s+", " ", _plain(text))))


def leaks_instructions(answer: str, t: TenantAI) -> bool:
    said = " " + " ".join(_words(answer)) + " "
    for source in (t.system_prompt, RULES):
        words = _words(source)
        n = min(LEAK_WORDS, len(words))
        if n and any(f" {' '.join(words[i:i + n])} " in said for i in range(len(words) - n + 1)):
            return True
    return False


def _digits(s: str) -> str:
    return re.sub(r"\D", "", s)


def check(answer: str, t: TenantAI, facts: Sequence[str] = ()) -> str | None:
    """None when the answer may be sent; else the reason it may not. `facts` are the tool results the model read:
    with the tenant's knowledge, the only places a price in the answer may come from."""
    text = answer.strip()
    if not text:
        return "empty"
    if len(text) > MAX_ANSWER_CHARS:
        return "too_long"
    if _REFUSAL.search(text):
        return "refusal"
    if _SECRET.search(text):
        return "secret"
    if leaks_instructions(text, t):
        return "prompt_leak"
    if unknown_link(text, t):
        return "unknown_link"
    known = f"{t.system_prompt}\n{t.knowledge_text()}"
    known_lower = known.lower()
    for email in _EMAIL.findall(text):
        if email.lower() not in known_lower:
            return "foreign_contact"
    known_digits = _digits(known)
    for phone in _PHONE.findall(text):
        d = _digits(phone)
        if len(d) >= 7 and d not in known_digits and not prices.is_price(text, phone):
            return "foreign_contact"
    if prices.unknown_price(text, [known, *facts]):
        return "unknown_price"
    return None


def unknown_link(text: str, t: TenantAI) -> bool:
    """Does the text link (bare domains, userinfo and look-alike forms included) outside the tenant's hosts?"""
    return any(not links.allowed(host, t.link_hosts) for host in links.link_hosts(text))


def check_reason(reason: str, t: TenantAI) -> str | None:
    """None when the model's handoff reason may reach the tenant's staff; else why not (`secret`, `unknown_link`)."""
    if _SECRET.search(reason):
        return "secret"
    if unknown_link(reason, t):
        return "unknown_link"
    return None
