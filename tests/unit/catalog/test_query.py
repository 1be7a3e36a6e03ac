"""What a question states besides its words: sizes, colours and price bounds."""

from __future__ import annotations

from decimal import Decimal

import pytest

from wapipe.catalog.normalize import term
from wapipe.catalog.query import parse


def test_the_issues_question_reads_as_words_colour_and_size() -> None:
    q = parse("¿tienen los Air Max 90 blancos en 40?")
    assert q.sizes == ["40"] and q.colours == [term("blanco")]
    assert {"air", "max", "90"} <= set(q.terms)
    assert q.max_price is None  # "max 90" is a model, not a price


@pytest.mark.parametrize(("text", "sizes"), [
    ("chaqueta impermeable en talla M", ["M"]),
    ("camiseta talla m", ["M"]),
    ("buzo 2XL", ["XXL"]),
    ("buzo xxl negro", ["XXL"]),
    ("zapatos número 38", ["38"]),
    ("botas talla 40,5", ["40.5"]),
    ("camiseta M o L", ["M", "L"]),
    ("una camiseta de mi talla", []),
    ("Air Max 90", []),
])
def test_sizes(text: str, sizes: list[str]) -> None:
    assert parse(text).sizes == sizes


@pytest.mark.parametrize(("text", "low", "high"), [
    ("tenis de menos de 200 mil", None, Decimal(200000)),
    ("jean hasta $150.000", None, Decimal(150000)),
    ("chaqueta por debajo de 300k", None, Decimal(300000)),
    ("botas de más de 400 mil", Decimal(400000), None),
    ("algo entre 100 y 200 mil", Decimal(100000), Decimal(200000)),
    ("maleta de máximo 1 millón", None, Decimal(1000000)),
    ("tenis talla 40", None, None),
])
def test_price_bounds(text: str, low: Decimal | None, high: Decimal | None) -> None:
    q = parse(text)
    assert (q.min_price, q.max_price) == (low, high)


def test_price_words_do_not_become_search_words() -> None:
    assert parse("tenis de menos de 200 mil").terms == parse("tenis").terms


def test_a_number_after_en_is_a_size_only_when_it_looks_like_one() -> None:
    assert parse("¿llegan en 2 días los tenis?").sizes == []
    assert parse("jean de niño talla 8").sizes == ["8"]
    assert parse("botas en la 38").sizes == ["38"]
