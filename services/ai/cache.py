"""Answer cache in Redis: the same (normalised) question to the same tenant and knowledge version, one model call.

A cached answer is served to every customer of the tenant who asks the same question, so only answers that belong
to nobody are stored (`cache_refusal`): generated without conversation history (the model saw the tenant's
knowledge and this question, nothing of anyone's conversation), and carrying no link, e-mail, address, number or
name that is not the tenant's own (or, for names, the question's: whoever gets the answer asked that same text).
Very short messages ("¿y en negro?") depend on the conversation and are neither looked up nor stored.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from functools import lru_cache

import redis.asyncio as aioredis

from services.ai.prompt import Answer, system_prompt
from services.ai.tenant import TenantAI, normalise
from wapipe.redis import KEY_PREFIX

MIN_QUESTION_CHARS = 12


def cache_key(tenant: str, knowledge_version: str, question: str) -> str | None:
    """Per tenant by construction: `wapipe:ai:answer:{tenant}:{hash}`; None for a question too short to cache."""
    q = normalise(question)
    if len(q) < MIN_QUESTION_CHARS:
        return None
    digest = hashlib.sha256(f"{tenant}\x1f{knowledge_version}\x1f{q}".encode()).hexdigest()[:32]
    return f"{KEY_PREFIX}ai:answer:{tenant}:{digest}"


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_LINK = re.compile(r"https?://|www\.|\b[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b(?:/\S*)?",
                   re.IGNORECASE)
_ADDRESS = re.compile(
    r"(?:\b(?:calle|cll|cl|carrera|cra|kra|kr|avenida|avda|av|diagonal|dg|transversal|transv|tv|autopista|manzana|"
    r"mz|apto|apartamento|interior|int|torre|bloque|lote|km|street|st|avenue|ave|road|rd)\b\.?|#|\bno\.)\s*\d+",
    re.IGNORECASE)
_NUMBER = re.compile(r"\d+(?:[ .,\-]\d+)*")
_WORD = re.compile(r"[^\W\d_]+")
_SENTENCE_START = ".!?:;¡¿«\"“(\n"
# Words that open a sentence followed by a comma without being a name ("Claro, ...").
_OPENERS = frozenset(normalise(
    "hola claro si sí bueno listo perfecto gracias genial vale ok okay entonces además también ahora hoy mañana "
    "no oye mira disculpa perdón lamentablemente actualmente igualmente recuerda sin embargo por cierto "
    "hi hello yes sure great thanks well also so now today please sorry unfortunately").split())
_ALWAYS = frozenset({"whatsapp", "ok", "i"})


def _digits(token: str) -> str:
    return re.sub(r"\D", "", token).lstrip("0") or "0"


@lru_cache(maxsize=64)
def _known(text: str) -> tuple[frozenset[str], frozenset[str], str]:
    """(words, numbers, normalised text) of what the model was told about the tenant."""
    numbers: set[str] = set()
    for m in _NUMBER.finditer(text):
        numbers.add(_digits(m.group(0)))
        numbers.update(_digits(g) for g in re.findall(r"\d+", m.group(0)))
    plain = normalise(text)
    return frozenset(plain.split()), frozenset(numbers), f" {plain} "


def _names(answer: str) -> list[str]:
    """Capitalised words that are not there because a sentence starts: names, places, brands."""
    found = []
    for m in _WORD.finditer(answer):
        word = m.group(0)
        if not word[0].isupper() or len(word) < 2:
            continue
        before = answer[: m.start()].rstrip()
        at_start = not before or before[-1] in _SENTENCE_START
        after = answer[m.end():].lstrip()
        if at_start and not (after.startswith(",") and normalise(word) not in _OPENERS):
            continue  # "Claro, ..." or an ordinary first word; "Ana, ..." is a name
        found.append(word)
    return found


def cache_refusal(answer: str, question: str, t: TenantAI, history: Sequence[object]) -> str | None:
    """Why this answer must not be stored for other customers (history, email, link, address, number, name),
    or None when it may be."""
    if history:
        return "history"
    if _EMAIL.search(answer):
        return "email"
    if _LINK.search(answer):
        return "link"
    words, numbers, plain = _known(system_prompt(t))
    asked = set(normalise(question).split())
    for m in _ADDRESS.finditer(answer):
        if f" {normalise(m.group(0))} " not in plain:
            return "address"
    for m in _NUMBER.finditer(answer):
        if _digits(m.group(0)) not in numbers:
            return "number"
    for name in _names(answer):
        if not set(normalise(name).split()) <= (words | asked | _ALWAYS):
            return "name"
    return None


class AnswerCache:
    def __init__(self, redis: aioredis.Redis, ttl_s: int) -> None:
        self._r = redis
        self._ttl = ttl_s

    async def get(self, key: str) -> Answer | None:
        raw = await self._r.get(key)
        if not raw:
            return None
        doc = json.loads(raw)
        return Answer(answer=doc["answer"], handoff=False, reason=doc.get("reason", ""))

    async def put(self, key: str, answer: Answer) -> None:
        await self._r.set(key, json.dumps({"answer": answer.answer, "reason": answer.reason}, ensure_ascii=False),
                          ex=self._ttl)
