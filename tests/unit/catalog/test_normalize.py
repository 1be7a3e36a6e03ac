"""Spanish normalisation: the customer's spelling and the catalog's wording meet on the same index terms."""

from __future__ import annotations

import pytest

from wapipe.catalog.fuzzy import correct, distance
from wapipe.catalog.normalize import analysed, terms


@pytest.mark.parametrize(("asked", "listed"), [
    ("zapatillas", "Zapatilla"),
    ("tenis", "zapatillas"),
    ("Camión", "camion"),
    ("pantalones", "pantalón"),
    ("blancas", "Blanco"),
    ("sapatos", "zapatos"),
    ("chaketa", "chaqueta"),
    ("bota", "botas"),
    ("guayos", "guayo"),
    ("taches", "guayos"),
    ("blue jean", "jean"),
    ("jeans", "Jean"),
    ("balerina", "valerina"),
    ("yave", "llave"),
])
def test_the_customers_word_and_the_catalogs_word_share_a_term(asked: str, listed: str) -> None:
    assert terms(asked) and terms(asked) == terms(listed)


def test_stop_words_go_from_a_question_but_stay_in_the_indexed_text() -> None:
    assert terms("¿tienen los tenis en la tienda?") == terms("tenis tienda")
    assert len(analysed("zapatos de cuero").split()) == 3


def test_different_products_keep_different_terms() -> None:
    assert terms("botas") != terms("botines") != terms("zapatos")
    assert terms("camisa") != terms("camiseta")
    assert terms("Air Max 90") == ["air", "max", "90"]


def test_a_misspelling_is_corrected_to_the_most_common_close_term() -> None:
    vocab = {"chaket": 40, "chalek": 3, "sapatiy": 90}
    assert correct("chakt", vocab) == "chaket" and correct("xyzzy", vocab) is None
    assert correct("sapatiyy", vocab) == "sapatiy"
    assert correct("bus", vocab) is None  # short words are never "corrected"
    assert correct("pantalon", vocab) is None
    assert distance("chaketa", "chakteta", 2) == 1 and distance("abcd", "bacd", 1) == 1
    assert distance("bota", "zapato", 1) == 2  # past the bound: bound + 1
