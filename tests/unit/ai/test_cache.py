"""Which answers the answer cache may hand to other customers: only those that belong to nobody."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.ai.cache import cache_key, cache_refusal
from services.ai.knowledge import to_ai
from wapipe.store.port import Turn
from wapipe.tenants import load_tenant

DEMO = to_ai(load_tenant(Path(__file__).parents[3] / "config" / "tenants" / "demo.yaml"))
TURN = Turn(DEMO.tenant, "573001234567", datetime(2026, 1, 5, tzinfo=UTC), "customer", "me llamo Ana", ("m0",))


@pytest.mark.parametrize(("answer", "question"), [
    ("Sobre pagos: Puedes pagar con tarjeta, transferencia o contra entrega.", "¿Cuáles son los medios de pago?"),
    ("Abrimos de lunes a sábado de 9:00 a 19:00.", "¿a qué hora abren?"),  # the tenant's hours
    ("El envío nacional cuesta 15.000 COP y llega en 2 a 4 días hábiles.", "¿cuánto cuesta el envío?"),
    ("Nequi al 300 000 0099 a nombre de Calzado y Moda La 80.", "¿cómo pago por Nequi?"),  # the shop's number
    ("Estamos en la Calle 80 # 68-45, local 12, Las Ferias.", "¿dónde están ubicados?"),  # the shop's address
    ("Claro, hacemos envíos a Cali.", "¿hacen envíos a Cali?"),  # a place the question names
])
def test_answers_that_belong_to_nobody_may_be_cached(answer: str, question: str) -> None:
    assert cache_refusal(answer, question, DEMO, []) is None


@pytest.mark.parametrize(("answer", "question", "reason"), [
    ("¡Hola Valentina! Sí, hacemos envíos.", "¿hacen envíos a mi casa?", "name"),
    ("Valentina, tu pedido está listo.", "¿ya está listo mi pedido?", "name"),
    ("Claro, hacemos envíos a Cali.", "¿hacen envíos a mi ciudad?", "name"),
    ("Te lo enviamos a la Calle 45 # 12-30.", "¿a dónde me lo envían?", "address"),
    ("Llámanos al 310 555 1234.", "¿a qué número llamo?", "number"),
    ("Tu pedido 48213 sale hoy.", "¿cuándo sale mi pedido?", "number"),
    ("El total es 187.500 COP.", "¿cuánto es el total?", "number"),
    ("Escríbenos a ventas@la80.co", "¿tienen correo electrónico?", "email"),
    ("Paga en pagos-la80.shop", "¿cómo pago en línea?", "link"),
    ("Catálogo: https://wa.me/c/100000000000001", "¿tienen catálogo en línea?", "link"),  # links: never
])
def test_personal_or_unknown_data_is_never_cached(answer: str, question: str, reason: str) -> None:
    assert cache_refusal(answer, question, DEMO, []) == reason


def test_an_answer_generated_with_history_is_never_cached() -> None:
    plain = "Sobre pagos: Puedes pagar con tarjeta, transferencia o contra entrega."
    assert cache_refusal(plain, "¿Cuáles son los medios de pago?", DEMO, [TURN]) == "history"


def test_the_key_is_per_tenant() -> None:
    a = cache_key("100000000000001", "v1", "¿Cuáles son los medios de pago?")
    b = cache_key("100000000000002", "v1", "¿Cuáles son los medios de pago?")
    assert a is not None and b is not None and a != b
    assert a.startswith("wapipe:ai:answer:100000000000001:") and b.startswith("wapipe:ai:answer:100000000000002:")
    assert cache_key("100000000000001", "v1", "¿y en negro?") is None
