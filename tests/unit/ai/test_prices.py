"""The price guard: an answer may name only prices its facts (tool results, the tenant's knowledge) hold."""

from __future__ import annotations

from dataclasses import replace

import pytest

from services.ai import guard
from services.ai.prices import amount, price_amounts, unknown_price
from tests.unit.ai.fixtures import TENANT

RESULT = '{"results": [{"title": "Chaqueta impermeable Andes", "price": "189900 COP", "sale_price": "159900.00 COP"}]}'


@pytest.mark.parametrize(("text", "value"), [
    ("189.900", 189900), ("189,900", 189900), ("189900", 189900), ("189900.00", 189900), ("189.900,00", 189900),
    ("1.299.900", 1299900), ("49,5", 49),
])
def test_amounts_read_spanish_and_english_separators(text: str, value: int) -> None:
    assert amount(text) == value


def test_prices_need_a_money_sign_or_word() -> None:
    text = "Talla 40, pedido 1043, 10% de descuento: $189.900, o 159.900 COP, o 189 mil, y envío 12.000 pesos."
    assert price_amounts(text) == [189900, 159900, 189000, 12000]


@pytest.mark.parametrize("answer", [
    "La chaqueta cuesta $189.900.", "Está en oferta a 159.900 COP", "Vale $ 189,900", "Te queda en 189.900 pesos",
    "Hay talla 40 y 42.",
])
def test_prices_from_the_tool_results_pass(answer: str) -> None:
    assert not unknown_price(answer, [RESULT])


def test_thousands_in_words_match_the_figure() -> None:
    assert not unknown_price("Cuesta 150 mil, o 150k", ['{"price": "150000 COP"}'])
    assert unknown_price("Cuesta 189 mil", [RESULT])  # 189000 is not 189900


@pytest.mark.parametrize("answer", ["La chaqueta cuesta $179.900.", "Está a 150 mil", "Vale 99.900 COP"])
def test_an_invented_price_is_caught(answer: str) -> None:
    assert unknown_price(answer, [RESULT])


def test_the_output_guard_refuses_an_unknown_price_and_accepts_known_ones() -> None:
    t = replace(TENANT, knowledge=TENANT.knowledge + " Envío nacional 12.000 COP.")
    assert guard.check("La Chaqueta impermeable Andes cuesta $189.900.", t, facts=[RESULT]) is None
    assert guard.check("El envío cuesta $12.000.", t) is None  # the tenant's own knowledge counts
    assert guard.check("La chaqueta cuesta $189.900.", t) == "unknown_price"  # no tool result: no price
    assert guard.check("Cuesta $1.299.900.", t, facts=['{"price": 1299900}']) is None  # not a phone number
