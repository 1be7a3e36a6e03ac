import pytest

from services.ai import guard
from services.ai.cost import PriceTable
from services.ai.tenant import fallback_answer
from tests.unit.ai.fixtures import TENANT


@pytest.mark.parametrize("answer", [
    "Claro, abrimos de 9 a 7. Más info en https://tiendademo.co/horarios",
    "Puedes llamarnos al +57 604 444 5566.",
    "Sí, tenemos tenis talla 40 en negro por $180.000.",
])
def test_good_answers_pass(answer: str) -> None:
    # a price must come from somewhere: here the catalog search the model ran (test_prices.py has the rest)
    assert guard.check(answer, TENANT, facts=['{"results": [{"title": "Tenis", "price": "180000 COP"}]}']) is None


@pytest.mark.parametrize(("answer", "reason"), [
    ("   ", "empty"),
    ("Lo siento, pero no puedo ayudarte con eso.", "refusal"),
    ("As an AI language model, I cannot do that.", "refusal"),
    ("La clave es sk-proj-abcdefghijklmnopqrstuv", "secret"),
    ("Mira este enlace: https://descuentos-falsos.com/promo", "unknown_link"),
    ("El cliente anterior, ana@gmail.com, pidió lo mismo.", "foreign_contact"),
    ("Escríbele a Juan al 3001234567, él también compró.", "foreign_contact"),
])
def test_bad_answers_are_refused(answer: str, reason: str) -> None:
    assert guard.check(answer, TENANT) == reason


def test_fallback_uses_the_matching_faq_else_the_tenant_wording() -> None:
    assert fallback_answer(TENANT, "¿A qué horario abren el domingo?") == (TENANT.faqs[0].answer, "faq")
    assert fallback_answer(TENANT, "¿Hacen envíos a Pasto?") == (TENANT.faqs[1].answer, "faq")
    assert fallback_answer(TENANT, "quiero cambiar un pedido") == (TENANT.fallback_text, "fallback_text")


def test_price_table_cost_and_unknown_model_default() -> None:
    prices = PriceTable({"gpt-4o-mini": (0.15, 0.60)}, default=(1.0, 3.0))
    assert prices.cost("gpt-4o-mini", 1_000_000, 1_000_000) == pytest.approx(0.75)
    assert prices.cost("mystery", 1000, 1000) == pytest.approx(0.004)
