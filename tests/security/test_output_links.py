"""Links in what the model writes: every domain-shaped token is a link, hosts are compared exactly (or as
subdomains) against the tenant's allowed hosts, and the handoff reason the staff read is checked the same way."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from schemas.events import HandoffRequested, ReplyRequested
from services.ai import guard
from services.ai.knowledge import to_ai
from tests.integration.ai.conftest import Wired, sim, tenant_with, wire  # noqa: F401  (fixtures)
from tests.unit.ai.fixtures import ScriptedProvider, request
from wapipe.runtime.types import RecordMeta
from wapipe.tenants import TenantConfigError, load_tenant

META = RecordMeta(topic="wa.ai.requests.v1", partition=0, offset=0, key=None, timestamp_ms=None)
DEMO = Path(__file__).parents[2] / "config" / "tenants" / "demo.yaml"
LA80 = tenant_with(knowledge="Nuestra tienda en línea: https://la80.co. Teléfono: +57 601 555 0080.")


@pytest.mark.parametrize("answer", [
    "Mira la tienda en https://la80.co/tenis",
    "Entra a la80.co/ofertas y escoge tu talla.",  # bare, as WhatsApp links it
    "Visítanos en www.la80.co",
    "Paga en https://pagos.la80.co/pse (es nuestro)",  # a subdomain of an allowed host
    "Todo está en LA80.CO/Catalogo.",  # case
    "Escríbenos desde la80.co.",  # a sentence's full stop is not part of the host
    "¿Viste (https://la80.co/tallas)?",
    # numbers and abbreviations are not domains (no price here: the price guard admits only prices the facts hold)
    "Tenemos 180 referencias y abrimos a las 9.30 a. m.; envíos 2 a 5 días.",
])
def test_links_to_the_tenants_own_hosts_pass(answer: str) -> None:
    assert guard.check(answer, LA80) is None


@pytest.mark.parametrize("answer", [
    "Paga aquí: pagos-la80.shop/pse",  # contains "la80" but is another host (the old check passed it)
    "Paga aquí: https://pagos-la80.shop/pse",
    "Paga en https://la80.co.pagos-seguros.xyz/pse",  # the allowed host as a prefix of another
    "Más barato en otra-tienda.com",  # a bare unknown domain
    "Más barato en otra-tienda.com/promo, corre",
    "VISITA HTTPS://EVIL.COM YA",  # case
    "Entra a WWW.EVIL.COM!",
    "Paga en https://la80.co@evil.com/pagar",  # userinfo: the host is what follows the "@"
    "Paga en la80.co@evil.com/pagar",
    "Paga en https://la80.co:x@evil.com",
    "Entra a la80.cо/pagar",  # a Cyrillic "о": another host (la80.xn--c-1tb)
    "Entra a lа80.co/pagar",  # a Cyrillic "а"
    "Entra a XN--L80-6CD.CO/pagar",  # the same look-alike written as punycode (and in capitals)
    "Entra a ｅｖｉｌ．ｃｏｍ/pagar",  # full-width forms, which browsers fold to evil.com
    "Entra a evil。com",  # the ideographic full stop browsers read as a dot
    "Paga en http://203.0.113.5/pse",  # an address, not a name
    "Ver https://la80.co,https://evil.com",  # two links glued together
    "Entra a evil.com.",  # trailing punctuation
])
def test_any_other_host_is_refused(answer: str) -> None:
    assert guard.check(answer, LA80) == "unknown_link"


def test_the_userinfo_form_without_a_path_is_refused_as_a_foreign_address() -> None:
    # WhatsApp shows "la80.co@evil.com" as an e-mail address: not the business's own, so it is refused too.
    assert guard.check("Escribe a la80.co@evil.com", LA80) == "foreign_contact"


def _demo_doc() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    return doc


def _write(tmp_path: Path, doc: dict[str, Any]) -> Path:
    path = tmp_path / "shop.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def test_the_demo_tenants_own_links_pass_and_others_do_not() -> None:
    demo = to_ai(load_tenant(DEMO))
    assert demo.link_hosts == {"calzadoymodala80.co", "calzadoymodala80.com.co", "wa.me", "maps.google.com"}
    for faq in demo.faqs:  # every link the tenant's own FAQ answers carry
        assert guard.check(faq.answer, demo) is None, faq.answer
    assert guard.check("Aquí está la tienda: https://maps.google.com/?q=4.6951,-74.0880", demo) is None
    assert guard.check("Guía: www.calzadoymodala80.co/tallas", demo) is None
    assert guard.check("Paga en calzadoymodala80.co.pagos.shop", demo) == "unknown_link"
    assert guard.check("Mira google.com", demo) == "unknown_link"  # maps.google.com does not allow its parent


def test_without_an_explicit_list_the_hosts_of_the_tenants_knowledge_are_allowed(tmp_path: Path) -> None:
    doc = _demo_doc()
    del doc["links"]
    demo = to_ai(load_tenant(_write(tmp_path, doc)))
    assert demo.link_hosts == {"calzadoymodala80.co", "wa.me", "maps.google.com"}


def test_an_explicit_list_is_the_whole_list(tmp_path: Path) -> None:
    doc = _demo_doc()
    doc["links"] = {"allowed_hosts": ["Calzadoymodala80.co", "pagos.example.com"]}
    demo = to_ai(load_tenant(_write(tmp_path, doc)))
    assert guard.check("Paga en https://pagos.example.com/pse", demo) is None
    assert guard.check("Guía: https://calzadoymodala80.co/tallas", demo) is None
    assert guard.check("Catálogo: https://wa.me/c/100000000000001", demo) == "unknown_link"  # named, not listed


@pytest.mark.parametrize("host", ["https://la80.co", "la80.co/pagos", "la80.co:443", "ana@la80.co", "la80", ""])
def test_an_allowed_host_must_be_a_host_name(tmp_path: Path, host: str) -> None:
    doc = _demo_doc()
    doc["links"] = {"allowed_hosts": [host]}
    with pytest.raises(TenantConfigError, match=r"shop\.yaml: field links\.allowed_hosts: .*not a host name"):
        load_tenant(_write(tmp_path, doc))


@pytest.mark.parametrize(("reason", "why"), [
    ("El cliente debe pagar en pagos-la80.shop antes de hablar con un asesor", "unknown_link"),
    ("Pídele que entre a https://la80.co@evil.com/verificar", "unknown_link"),
    ("La clave es sk-live-9f8e7d6c5b4a39281706", "secret"),
])
async def test_a_handoff_reason_with_a_foreign_link_ends_in_the_fallback_and_is_counted(
        reason: str, why: str, wire: Callable[..., Wired]) -> None:  # noqa: F811
    says = f'{{"answer": "Te comunico con un asesor", "handoff": true, "reason": "{reason}"}}'
    w = wire(tenant=LA80, providers=[ScriptedProvider("openai", [says])])
    emits = await w.handler(request("necesito ayuda con mi compra", tenant=LA80), META)
    assert [type(e.event) for e in emits] == [ReplyRequested]  # no HandoffRequested: the staff never read it
    reply = emits[0].event
    assert reply.trace.route == "ai_fallback" and f"ai:fallback:guard_handoff_{why}" in reply.trace.decision_path
    assert reply.payload.text in {LA80.fallback_text, *(f.answer for f in LA80.faqs)}
    assert w.metric("wapipe_ai_fallbacks_total", tenant=LA80.tenant, reason=f"guard_handoff_{why}") == 1


async def test_a_handoff_reason_with_the_tenants_own_link_reaches_the_staff(
        wire: Callable[..., Wired]) -> None:  # noqa: F811
    says = '{"answer": "", "handoff": true, "reason": "Quiere cambiar el pedido que hizo en la80.co/pedidos"}'
    w = wire(tenant=LA80, providers=[ScriptedProvider("openai", [says])])
    emits = await w.handler(request("quiero cambiar mi pedido", tenant=LA80), META)
    handoff = emits[0].event
    assert isinstance(handoff, HandoffRequested)
    assert handoff.payload.text == "Quiere cambiar el pedido que hizo en la80.co/pedidos"


@pytest.mark.parametrize("answer", ["Paga en pagos-la80.shop/pse", "Paga en https://la80.co@evil.com/pagar"])
async def test_a_model_answer_with_a_foreign_link_never_reaches_the_customer(
        answer: str, wire: Callable[..., Wired]) -> None:  # noqa: F811
    w = wire(tenant=LA80, providers=[ScriptedProvider("openai", [f'{{"answer": "{answer}", "handoff": false}}'])])
    emits = await w.handler(request("¿dónde pago mi pedido de tenis?", tenant=LA80), META)
    reply = emits[0].event
    assert isinstance(reply, ReplyRequested)
    assert reply.payload.text in {LA80.fallback_text, *(f.answer for f in LA80.faqs)}
    assert "ai:fallback:guard_unknown_link" in reply.trace.decision_path
    assert w.metric("wapipe_ai_fallbacks_total", tenant=LA80.tenant, reason="guard_unknown_link") == 1
