"""Prices named in a text, as amounts, and whether an answer names one its facts do not hold.

A price is an amount with a money sign or word: `$189.900`, `$ 189,900`, `189.900 COP`, `189900 pesos`, `189 mil`,
`189k`. Spanish and English separators both read: `189.900`, `189,900`, `189.900,00`, `189900.00` are all 189900.
The facts (tool results, the tenant's knowledge) count every number they hold, with or without a money sign, so
`"price": "189900 COP"` in a search result backs `$189.900` in the answer. Percentages and bare numbers (sizes,
order numbers) are not prices.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_NUMBER = r"\d{1,3}(?:[.,]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_PRICE = re.compile(
    rf"(?:(?:\$|\bcop|\busd|\bus\$)\s?(?P<a>{_NUMBER})(?:\s?(?P<am>mil|k)\b)?)"
    rf"|(?:(?<![\w.,])(?P<b>{_NUMBER})\s?(?P<bm>mil(?:\s+pesos)?|k|cop|pesos|usd|dolares|dólares)\b)", re.I)
_ANY_NUMBER = re.compile(rf"(?<![\w])(?:{_NUMBER})(?:\s?(?:mil|k)\b)?", re.I)


def amount(number: str, multiplier: str = "") -> int:
    """`189.900` -> 189900, `189900.00` -> 189900, `189,9` -> 189, with `mil`/`k` -> x1000."""
    n = number.strip()
    if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+(?:[.,]\d{1,2})?", n):
        groups = re.split(r"[.,]", n)
        if len(groups[-1]) != 3:  # decimals after the thousands
            groups = groups[:-1]
        value = int("".join(groups))
    else:
        value = int(re.split(r"[.,]", n)[0])
    return value * 1000 if multiplier.lower().startswith(("mil", "k")) else value


def price_amounts(text: str) -> list[int]:
    out = []
    for m in _PRICE.finditer(text):
        if m.group("a"):
            out.append(amount(m.group("a"), m.group("am") or ""))
        else:
            mult = m.group("bm") or ""
            out.append(amount(m.group("b"), mult if mult.lower().startswith(("mil", "k")) else ""))
    return out


def known_amounts(facts: Iterable[str]) -> set[int]:
    known: set[int] = set()
    for text in facts:
        for m in _ANY_NUMBER.finditer(text):
            token = m.group(0)
            num = re.match(_NUMBER, token)
            if num:
                known.add(amount(num.group(0), token[num.end():].strip()))
                known.add(amount(num.group(0)))
    return known


def is_price(text: str, fragment: str) -> bool:
    """Is `fragment` (a digit run the contact check found) part of a price in `text`?"""
    d = re.sub(r"\D", "", fragment)
    return bool(d) and any(d in re.sub(r"\D", "", m.group(0)) for m in _PRICE.finditer(text))


def unknown_price(answer: str, facts: Iterable[str]) -> bool:
    """Does the answer name a price that none of the facts holds?"""
    named = price_amounts(answer)
    if not named:
        return False
    known = known_amounts(facts)
    return any(a not in known for a in named)
