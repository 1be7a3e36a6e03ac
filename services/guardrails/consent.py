"""Opt-out and opt-in keywords: does this message change the customer's consent? Pure, no I/O.

Decided before shadow mode, the flood limit and the classifier, so "STOP" is honoured whoever has the
conversation. A one-word keyword counts only as the whole message (courtesies around it aside), so "la talla
baja" or "start" inside a sentence change nothing; a phrase counts anywhere unless a negation stands just before
it ("no quiero darme de baja"). An opt-out wins over an opt-in found in the same message.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from services.guardrails.normalize import normalize
from wapipe.store.privacy import ConsentStatus
from wapipe.tenants.models import ConsentSettings

MAX_CHARS = 2000  # a consent request is short; longer texts are looked at up to here

OPT_OUT = (
    "stop", "stopall", "baja", "unsubscribe", "desuscribir", "desuscribirme",
    "darme de baja", "dar de baja", "dame de baja", "denme de baja", "me doy de baja", "quiero la baja",
    "no me escriban mas", "no me escriban nunca mas", "no me vuelvan a escribir", "no me escriban por favor",
    "no quiero recibir mensajes", "no quiero recibir mas mensajes", "no quiero recibir sus mensajes",
    "no quiero recibir mas sus mensajes", "no quiero volver a recibir", "no deseo recibir mensajes",
    "no me envien mas mensajes", "no me manden mas mensajes", "dejen de escribirme", "dejen de enviarme mensajes",
    "dejen de mandarme mensajes", "cancelar suscripcion", "cancelar la suscripcion", "anular suscripcion",
    "eliminar suscripcion", "sacarme de la lista", "saquenme de la lista", "borrarme de la lista",
    "stop messaging me", "stop texting me", "stop sending me messages", "stop sending messages",
    "stop contacting me", "do not message me", "don't message me", "dont message me", "do not contact me",
    "don't contact me", "opt out", "unsubscribe me", "remove me from your list",
)
OPT_IN = (
    "start", "alta", "unstop", "subscribe", "suscribir", "suscribirme",
    "darme de alta", "dar de alta", "dame de alta", "denme de alta", "quiero volver a recibir",
    "volver a recibir mensajes", "quiero recibir mensajes", "quiero recibir sus mensajes", "suscribirme de nuevo",
    "start messages", "resume messages", "opt in", "subscribe me",
)
# Courtesies that may stand around a one-word keyword ("STOP por favor", "hola, baja gracias").
_COURTESY = frozenset({"por", "favor", "gracias", "ya", "please", "ok", "thanks", "thank", "you", "hola", "buenas",
                       "buenos", "dias", "tardes", "noches", "hi", "hello", "senor", "senora"})
_NEGATIONS = frozenset({"no", "nunca", "jamas", "not", "never", "dont"})
_NEGATED_PAIRS = frozenset({("no", "quiero"), ("no", "deseo"), ("don", "t"), ("do", "not"), ("dont", "want"),
                            ("nunca", "quise")})


@dataclass(frozen=True)
class ConsentMatch:
    status: ConsentStatus
    keyword: str  # the normalised keyword or phrase that matched


@dataclass(frozen=True)
class _Keywords:
    words: frozenset[str]
    phrases: tuple[tuple[str, ...], ...]


@lru_cache(maxsize=256)
def _compile(keywords: tuple[str, ...]) -> _Keywords:
    words: set[str] = set()
    phrases: list[tuple[str, ...]] = []
    for k in keywords:
        parts = tuple(normalize(k).split())
        if len(parts) == 1:
            words.add(parts[0])
        elif parts:
            phrases.append(parts)
    return _Keywords(frozenset(words), tuple(phrases))


def _keywords(settings: ConsentSettings, status: ConsentStatus) -> _Keywords:
    own = settings.opt_out if status == "opted_out" else settings.opt_in
    builtin: Iterable[str] = (OPT_OUT if status == "opted_out" else OPT_IN) if settings.builtin else ()
    return _compile((*builtin, *own))


def _negated(before: Sequence[str], phrase: tuple[str, ...]) -> bool:
    if phrase[0] in _NEGATIONS:  # "no me escriban más" is itself the negative request
        return False
    return bool(before) and (before[-1] in _NEGATIONS or tuple(before[-2:]) in _NEGATED_PAIRS)


def _find(words: list[str], kw: _Keywords) -> str | None:
    core = [w for w in words if w not in _COURTESY]
    if len(core) == 1 and core[0] in kw.words:
        return core[0]
    for phrase in kw.phrases:
        n = len(phrase)
        for i in range(len(words) - n + 1):
            if tuple(words[i:i + n]) == phrase and not _negated(words[:i], phrase):
                return " ".join(phrase)
    return None


def match_consent(text: str | None, settings: ConsentSettings) -> ConsentMatch | None:
    """The consent change `text` asks for, or None when it asks for none."""
    words = normalize((text or "")[:MAX_CHARS]).split()
    if not words:
        return None
    for status in ("opted_out", "opted_in"):
        found = _find(words, _keywords(settings, status))
        if found is not None:
            return ConsentMatch(status, found)
    return None
