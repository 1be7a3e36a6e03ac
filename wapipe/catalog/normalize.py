"""Spanish-normalising analysis, applied the same way to the indexed text and to the question.

Lower case, accents off, a light stemmer (plural and gender endings: "zapatillas", "zapatilla" -> "zapatill";
"blancos", "blanca" -> "blanc"), colloquial names folded onto the catalog's words ("tenis" -> zapatilla,
"guayos" -> guayo, "blue jean" -> jean) and a phonetic key for the spellings people mix up (s/z/c, b/v, y/ll,
qu/k, a silent h): "sapatos", "chaketa" and "zapatos", "chaqueta" get the same term.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_WORD = re.compile(r"[a-z0-9]+")
_ACCENTS = str.maketrans("áéíóúüñàèìòùâêîôûç", "aeiouunaeiouaeiouc")  # the common ones, without decomposing
STOPWORDS = frozenset(
    "a al algo algun alguna alguno ante con como cual cuales cuanto cuanta cuantos de del el ella en es esa ese eso "
    "esta este esto estan estas estos fue ha hay la las le les lo los me mi mis muy no o para pero por que quiero "
    "se si sin sirve sobre su sus tal te tiene tienen tienes tu un una unas uno unos vale valen y ya yo "
    "busco buscando necesito quisiera tendran tendras manejan venden vendes hola buenas buenos dias tardes noches "
    "favor porfa gracias precio precios cuesta cuestan costo valor disponible disponibles hay puedo ver "
    "mostrar muestrame muestreme manda mandame envia enviame foto fotos referencia ref modelo modelos".split()
)

# Colloquial and regional names -> the word the catalog uses (before stemming). Multi-word first.
PHRASES = (
    ("blue jeans", "jean"), ("blue jean", "jean"), ("bluyines", "jean"), ("bluyin", "jean"), ("yins", "jean"),
    ("zapatos de futbol", "guayo"), ("botines de futbol", "guayo"), ("zapatillas de futbol", "guayo"),
    ("tenis de futbol", "guayo"), ("de correr", "running"), ("para correr", "running"),
    ("sin cordones", "slip"), ("traje de bano", "vestido bano"), ("vestido de bano", "vestido bano"),
)
_PHRASES = tuple((p, c, re.compile(rf"\b{p}\b")) for p, c in PHRASES)
SYNONYMS = {
    "tenis": "zapatilla", "teni": "zapatilla", "tennis": "zapatilla", "sneaker": "zapatilla",
    "sneakers": "zapatilla", "zapatillas": "zapatilla",
    "guayos": "guayo", "taches": "guayo", "tacos": "guayo", "chimpunes": "guayo", "botines": "guayo",
    "jeans": "jean", "vaquero": "jean", "vaqueros": "jean", "jeanes": "jean",
    "chamarra": "chaqueta", "campera": "chaqueta", "casaca": "chaqueta", "cazadora": "chaqueta",
    "chompa": "chaqueta", "parka": "chaqueta", "impermeables": "impermeable", "rompevientos": "impermeable",
    "polera": "camiseta", "remera": "camiseta", "playera": "camiseta", "franela": "camiseta", "tshirt": "camiseta",
    "camisilla": "esqueleto",
    "sudadera": "buzo", "hoodie": "buzo", "sueter": "buzo", "saco": "buzo", "busos": "buzo",
    "chanclas": "sandalia", "chancla": "sandalia", "cholas": "sandalia",
    "calcetines": "media", "calcetas": "media", "tines": "media",
    "bermuda": "short", "bermudas": "short", "pantaloneta": "short", "pantalonetas": "short", "shorts": "short",
    "morral": "morral", "mochila": "morral", "maleta": "morral",
    "gorra": "gorra", "cachucha": "gorra", "cachuchas": "gorra",
    "tacones": "tacon", "zapatos": "zapato", "calzado": "zapato",
    "buso": "buzo",
    "cafe": "marron", "cafes": "marron", "marrones": "marron", "beige": "beige",
    "rosa": "rosado", "rosada": "rosado", "rosadas": "rosado", "rosados": "rosado", "fucsia": "rosado",
    "vinotinto": "vino", "guinda": "vino", "celeste": "azul claro",
    "mujer": "mujer", "dama": "mujer", "damas": "mujer", "chica": "mujer", "femenino": "mujer",
    "hombre": "hombre", "caballero": "hombre", "caballeros": "hombre", "masculino": "hombre",
    "nino": "nino", "ninos": "nino", "nina": "nino", "ninas": "nino", "infantil": "nino", "kids": "nino",
    "moto": "moto", "motociclista": "moto", "motos": "moto",
}


def fold(text: str) -> str:
    """Lower case without accents (ñ -> n), punctuation as spaces."""
    lowered = text.lower().translate(_ACCENTS)
    if lowered.isascii():
        return lowered
    decomposed = unicodedata.normalize("NFKD", lowered)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def stem(word: str) -> str:
    """Plural, then one gender/final vowel: enough for a catalog's nouns and adjectives, and idempotent-ish on
    its own output so query and index agree."""
    if word.isdigit() or len(word) <= 3:
        return word
    if word.endswith("ces") and len(word) > 5:
        word = word[:-3] + "z"
    elif word.endswith("es") and len(word) > 5 and word[-3] not in "aeiou":
        word = word[:-2]
    elif word.endswith("s") and word[-2] in "aeiou":
        word = word[:-1]
    if len(word) > 4 and word[-1] in "aeo":
        word = word[:-1]
    return word


_SOFT_C = re.compile(r"c(?=[ei])")
_DOUBLE = re.compile(r"(.)\1+")


def phonetic(word: str) -> str:
    """One key for the spellings Spanish speakers mix up; digits and short words stay as they are."""
    if not word.isalpha() or len(word) <= 2:
        return word
    w = word.replace("ch", "\x01").replace("qu", "k").replace("ll", "y").replace("h", "")
    w = _SOFT_C.sub("s", w).replace("c", "k").replace("z", "s").replace("v", "b").replace("w", "u")
    w = w.replace("\x01", "ch")
    return _DOUBLE.sub(r"\1", w)


def words(text: str) -> list[str]:
    """Folded words with the multi-word colloquial names replaced; stop words kept (filters need "en", "de")."""
    folded = fold(text)
    for phrase, canonical, pattern in _PHRASES:
        if phrase in folded:
            folded = pattern.sub(canonical, folded)
    return _WORD.findall(folded)


@lru_cache(maxsize=65536)
def term(word: str) -> str:
    """The index term of one folded word."""
    canonical = SYNONYMS.get(word, word)
    return " ".join(stem(phonetic(w)) for w in canonical.split())


def terms(text: str, *, drop_stopwords: bool = True) -> list[str]:
    """Index terms of a text, in order (a synonym of several words gives several terms)."""
    out: list[str] = []
    for w in words(text):
        if drop_stopwords and w in STOPWORDS:
            continue
        out.extend(term(w).split())
    return out


@lru_cache(maxsize=16384)
def analysed(text: str) -> str:
    """The text as FTS5 stores it: its terms joined by spaces (the unicode61 tokenizer then splits on them)."""
    return " ".join(terms(text, drop_stopwords=False))
