"""Text normalisation before classification: how people really type on WhatsApp, made comparable.

Lower case, accents removed, emoji turned into words (or dropped), letters repeated for emphasis collapsed
("holaaaa" -> "hola"), punctuation removed, common abbreviations and misspellings spelled out, and the tenant's
synonyms mapped to their canonical word.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache

# Emoji that carry meaning in a customer message; every other emoji is dropped.
EMOJI_WORDS = {
    "👋": " hola ", "🙏": " gracias ", "👍": " ok ", "👌": " ok ", "🤝": " ok ", "❤": " gracias ",
    "😡": " molesto ", "🤬": " molesto ", "😠": " molesto ",
}

# Abbreviations and misspellings common in Colombian WhatsApp Spanish -> the word they stand for.
SPELLING = {
    "q": "que", "k": "que", "ke": "que", "qe": "que", "xq": "porque", "pq": "porque", "porq": "porque",
    "xfa": "por favor", "xfavor": "por favor", "porfa": "por favor", "porfis": "por favor", "plis": "por favor",
    "pls": "por favor", "x": "por", "tb": "tambien", "tmb": "tambien", "tbn": "tambien", "dnd": "donde",
    "d": "de", "grx": "gracias", "grax": "gracias", "grs": "gracias", "grasias": "gracias", "gracia": "gracias",
    "hrs": "horas", "hr": "hora", "hs": "horas", "pa": "para", "pal": "para el", "bn": "bien", "ud": "usted",
    "uds": "ustedes", "bno": "bueno", "weno": "bueno", "ola": "hola", "holis": "hola", "aki": "aqui",
    "info": "informacion", "cel": "celular", "mn": "mensaje", "msj": "mensaje", "ps": "pues",
    "tons": "entonces", "ntons": "entonces", "vdd": "verdad", "nd": "nada",
    "qtal": "que tal", "kiubo": "quiubo", "quibo": "quiubo", "quiubole": "quiubo",
    "obvio": "claro", "oka": "ok", "okey": "ok", "okay": "ok", "okis": "ok", "vale": "ok", "sip": "si",
    "habren": "abren", "avren": "abren", "orario": "horario",
    "direcion": "direccion", "dirrecion": "direccion", "ubicasion": "ubicacion", "enbio": "envio",
    "embio": "envio", "enbios": "envios", "embios": "envios", "contraentrga": "contraentrega",
    "tenes": "tenis", "tennis": "tenis", "asesora": "asesor", "acesor": "asesor", "asesoria": "asesor",
}

_REPEATS = re.compile(r"([a-z])\1{2,}")
_NON_WORD = re.compile(r"[^a-z0-9ñ\s]+")


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _emoji_to_words(text: str) -> str:
    for emoji, word in EMOJI_WORDS.items():
        text = text.replace(emoji, word)
    return text


def normalize(text: str | None, synonyms: Mapping[str, list[str]] | None = None) -> str:
    """'¡Holaaaa! 👋 q horario tienen??' -> 'hola hola que horario tienen'."""
    if not text:
        return ""
    t = _emoji_to_words(text.lower())
    t = strip_accents(t)
    t = _NON_WORD.sub(" ", t)  # punctuation and the remaining emoji
    t = _REPEATS.sub(r"\1", t)  # emphasis: "graciasss" -> "gracias" (a doubled "ll"/"rr" is kept)
    words = [SPELLING.get(w, w) for w in t.split()]
    out = " ".join(words)
    if synonyms:
        out = apply_synonyms(out, synonyms)
    return out


def apply_synonyms(text: str, synonyms: Mapping[str, list[str]]) -> str:
    """Replace each variant (a word or phrase, normalised) by its canonical word, whole words only."""
    padded = f" {text} "
    for canonical, variants in synonyms.items():
        target = _term(canonical)
        for variant in variants:
            v = _term(variant)
            if v and v != target:
                padded = padded.replace(f" {v} ", f" {target} ")
    return padded.strip()


@lru_cache(maxsize=8192)
def _term(term: str) -> str:
    """A synonym's word or phrase, normalised once: every message of the tenant compares against the same ones."""
    return normalize(term)
