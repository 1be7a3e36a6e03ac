"""A customer's question read as a catalog query: words to match, and the filters it states (size, colour,
price bounds). "¿tienen los Air Max 90 blancos en 40?" -> words air max 90, colour blanco, size 40."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from wapipe.catalog.normalize import fold, term, terms

COLOURS = {
    "negro": "negro", "blanco": "blanco", "rojo": "rojo", "azul": "azul", "verde": "verde", "gris": "gris",
    "beige": "beige", "cafe": "marron", "marron": "marron", "rosado": "rosado", "rosa": "rosado",
    "amarillo": "amarillo", "naranja": "naranja", "morado": "morado", "lila": "morado", "vinotinto": "vino",
    "vino": "vino", "crema": "crema", "dorado": "dorado", "plateado": "plateado", "fucsia": "rosado",
    "celeste": "azul", "turquesa": "turquesa", "mostaza": "mostaza", "camel": "camel", "caqui": "caqui",
    "kaki": "caqui", "khaki": "caqui", "multicolor": "multicolor", "oliva": "verde", "coral": "coral",
}
COLOUR_TERMS = {term(k): term(v) for k, v in COLOURS.items()}
_LETTERS = "xxxl|3xl|xxl|2xl|xl|xs|l|m|s"
_SIZE_AFTER = re.compile(rf"\b(?:(?:talla|tallas|numero|num|no|n|size)\s*#?\s*(\d{{1,2}}(?:[.,]5)?|{_LETTERS})"
                         rf"|en(?: (?:la|el))?\s+(\d{{2}}(?:[.,]5)?|{_LETTERS}))\b")
_BARE_BIG = re.compile(r"\b(xxxl|3xl|xxl|2xl|xl|xs)\b")
_BARE_LETTER = re.compile(r"(?<![\w'])([SML])(?![\w'])")
_AMOUNT = r"\$?\s*(\d{1,3}(?:[.,]\d{3})+|\d+(?:[.,]\d+)?)\s*(mil|k|millon(?:es)?|m)?\b"
_UPPER = re.compile(r"\b(?:menos de|menor a|menor de|maximo|hasta|por debajo de|no mas de|que no pase de|"
                    r"debajo de|inferior a)\s*" + _AMOUNT)
_LOWER = re.compile(r"\b(?:mas de|mayor a|mayor de|minimo|desde|por encima de|arriba de|superior a)\s*" + _AMOUNT)
_BETWEEN = re.compile(r"\bentre\s*" + _AMOUNT + r"\s*y\s*" + _AMOUNT)


@dataclass(frozen=True)
class ParsedQuery:
    text: str
    terms: list[str]
    sizes: list[str] = field(default_factory=list)
    colours: list[str] = field(default_factory=list)
    min_price: Decimal | None = None
    max_price: Decimal | None = None


def _amount(number: str, unit: str | None) -> Decimal:
    digits = number.replace(".", "").replace(",", "") if re.fullmatch(r"\d{1,3}([.,]\d{3})+", number) \
        else number.replace(",", ".")
    value = Decimal(digits)
    if unit is None and value < 1000:
        raise ValueError("too small for a price without a unit (a size or a model number)")
    if unit in ("mil", "k"):
        value *= 1000
    elif unit and unit.startswith("millon") or unit == "m" and value < 10:
        value *= 1_000_000
    return value


def _price(number: str, unit: str | None) -> Decimal | None:
    try:
        return _amount(number, unit)
    except (ValueError, ArithmeticError):
        return None


def normal_size(size: str) -> str:
    """"2XL", "xxl" -> "XXL"; "40,5" -> "40.5"; as sizes are compared."""
    s = fold(size).strip().replace(",", ".").replace(" ", "")
    return {"2xl": "XXL", "3xl": "XXXL"}.get(s, s.upper())


def parse(text: str) -> ParsedQuery:
    folded = fold(text)
    rest = folded
    min_price = max_price = None
    if m := _BETWEEN.search(rest):
        # "entre 100 y 200 mil": the unit of the second amount applies to both
        low, high = _price(m[1], m[2] or m[4]), _price(m[3], m[4])
        if low is not None and high is not None:
            min_price, max_price = low, high
            rest = rest.replace(m[0], " ")
    if (m := _UPPER.search(rest)) and (value := _price(m[1], m[2])) is not None:
        max_price = value
        rest = rest.replace(m[0], " ")
    if (m := _LOWER.search(rest)) and (value := _price(m[1], m[2])) is not None:
        min_price = value
        rest = rest.replace(m[0], " ")
    sizes: list[str] = []
    for m in _SIZE_AFTER.finditer(rest):  # "en 2" is a time ("en 2 días"), "en 40" a size
        sizes.append(normal_size(m[1] or m[2]))
    rest = _SIZE_AFTER.sub(" ", rest)
    for m in _BARE_BIG.finditer(rest):
        sizes.append(normal_size(m[1]))
    rest = _BARE_BIG.sub(" ", rest)
    for m in _BARE_LETTER.finditer(text):  # a lone capital S/M/L in the original is a size
        sizes.append(m[1])
        rest = re.sub(rf"\b{m[1].lower()}\b", " ", rest, count=1)
    colours: list[str] = []
    words: list[str] = []
    for t in terms(rest):
        colour = COLOUR_TERMS.get(t)
        if colour and colour not in colours:
            colours.append(colour)
        words.append(t)
    return ParsedQuery(text=text, terms=words, sizes=list(dict.fromkeys(sizes)), colours=colours,
                       min_price=min_price, max_price=max_price)
