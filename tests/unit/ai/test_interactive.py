"""Choices go out as interactive messages Meta accepts (validated against `schemas.meta.graph`), taps come back
framed for the model, and a tenant can turn it all off."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from schemas.events import Order, OrderItem, ReplyRequested
from schemas.meta.graph import InteractiveMessage
from services.ai.interactive import choices, options, order_text, products_found, tap_text
from tests.unit.ai.fixtures import request
from tests.unit.ai.test_tool_loop import META, SHOP, handler, said
from tests.unit.ai.tool_fakes import MemoryCatalog, ToolModel, call
from wapipe.tenants.tools import ToolsSettings


def results(*products: dict[str, object]) -> str:
    return json.dumps({"results": list(products)})


MANY = [{"id": f"P{i}-M", "item_group_id": f"P{i}", "title": f"Chaqueta impermeable modelo número {i} edición larga",
         "price": f"{100000 + i} COP", "size": ["S", "M"]} for i in range(14)]


def meta_accepts(body: dict[str, Any]) -> None:
    InteractiveMessage.model_validate({"messaging_product": "whatsapp", "to": "573001234567",
                                       "type": "interactive", "interactive": body})


def interactive(answer: str, evidence: list[str], catalog_id: str | None = None) -> dict[str, Any]:
    rich = choices(answer, evidence, catalog_id)
    assert rich is not None and rich.interactive is not None, rich
    return rich.interactive


IMAGED = {**MANY[0], "image_link": "https://calzadoymoda.example/img/P0.jpg"}


def test_one_product_with_a_meta_catalog_id_is_a_single_product_message() -> None:
    body = interactive("La Chaqueta Andes está a 100000 COP.", [results(IMAGED)], "CAT123")
    assert body == {"type": "product", "body": {"text": "La Chaqueta Andes está a 100000 COP."},
                    "action": {"catalog_id": "CAT123", "product_retailer_id": "P0-M"}}
    meta_accepts(body)


def test_one_product_without_a_catalog_id_is_its_image_with_the_answer_as_caption() -> None:
    rich = choices("La Chaqueta Andes está a 100000 COP.", [results(IMAGED)])
    assert rich is not None and rich.interactive is None and rich.image_link == IMAGED["image_link"]
    # not https, or a caption over Meta's 1024: text
    assert choices("Está a 100000 COP.", [results({**MANY[0], "image_link": "http://x.example/a.jpg"})]) is None
    assert choices("x" * 1030, [results(IMAGED)]) is None


def test_several_products_with_a_catalog_id_are_a_product_list_within_metas_limits() -> None:
    many = [{**p, "id": f"R{i}", "item_group_id": f"G{i}"} for i, p in enumerate(MANY * 3)]
    body = interactive("Tenemos estas chaquetas.", [results(*many)], "CAT123")
    assert body["type"] == "product_list" and body["action"]["catalog_id"] == "CAT123"
    items = [i["product_retailer_id"] for s in body["action"]["sections"] for i in s["product_items"]]
    assert len(items) == 30 and items[:2] == ["R0", "R1"] and len(body["action"]["sections"]) <= 10
    meta_accepts(body)


def test_up_to_three_options_become_reply_buttons_with_unique_short_titles() -> None:
    body = interactive("La tenemos en tres colores. ¿La prefieres en negro, blanco o azul?", [])
    titles = [b["reply"]["title"] for b in body["action"]["buttons"]]
    assert titles == ["Negro", "Blanco", "Azul"]
    assert [b["reply"]["id"] for b in body["action"]["buttons"]] == ["answer:negro", "answer:blanco", "answer:azul"]
    meta_accepts(body)
    assert options("¿Prefieres envío a domicilio o recoger en tienda?") == ["Envío a domicilio", "Recoger en tienda"]
    assert options("¿Talla 38 o 39?") == ["38", "39"]
    assert options("¿Negro, blanco, azul o rojo?") == []  # four: Meta takes three buttons
    assert options("¿Quieres que te la aparte o no?") == []  # a yes/no question: Sí / No
    assert options("¿La quieres con el cordón de repuesto gratis o con la plantilla ortopédica?") == []  # > 20
    assert options("¿Negro o negro?") == []
    assert options("Tenemos negro o blanco.") == []


def test_an_order_is_framed_with_its_items() -> None:
    order = Order(catalog_id="CAT123", text="para regalo", items=[
        OrderItem(product_retailer_id="P0-M", quantity=2, item_price=189900, currency="COP"),
        OrderItem(product_retailer_id="P1-S", quantity=1)])
    assert order_text(order) == ("(El cliente envió un pedido desde el catálogo: 2 × id P0-M a 189900 COP; "
                                 "1 × id P1-S. Nota del cliente: «para regalo».)")
    assert tap_text("", None, order) == order_text(order)
    assert tap_text("quiero este", None, referred_product="P0-M") == \
        "(El cliente pregunta por el producto id P0-M:) quiero este"


def test_several_products_become_a_list_of_at_most_ten_rows_meta_accepts() -> None:
    rich = choices("Tenemos estas chaquetas impermeables.", [results(*MANY[:7]), results(*MANY[5:])])
    assert rich is not None and rich.interactive is not None and rich.interactive["type"] == "list"
    body = rich.interactive
    rows = body["action"]["sections"][0]["rows"]
    assert len(rows) == 10 and [r["id"] for r in rows[:2]] == ["product:P0", "product:P1"]  # each group once
    assert all(len(r["title"]) <= 24 and len(r["description"]) <= 72 for r in rows)
    assert rows[0]["description"] == "100000 COP · tallas S, M"
    meta_accepts(body)


def test_a_yes_no_question_gets_reply_buttons() -> None:
    body = interactive("La Chaqueta Andes está a 189900 COP. ¿Quieres que te la aparte?", [results(MANY[0])])
    assert body["type"] == "button"
    assert [b["reply"]["id"] for b in body["action"]["buttons"]] == ["answer:si", "answer:no"]
    meta_accepts(body)


def test_plain_answers_and_one_product_stay_text() -> None:
    assert choices("Abrimos de 9 a 7.", []) is None
    assert choices("Tenemos la Chaqueta Andes.", [results(MANY[0])]) is None  # no image, no catalog id
    assert choices("x" * 1100, [results(*MANY)]) is None  # over the interactive body limit: text
    assert products_found(['{"error": "boom"}', "not json", results(MANY[0])]) == [MANY[0]]


def test_taps_are_framed_for_the_model() -> None:
    assert tap_text("Chaqueta Andes", "product:CHQ") == \
        "(El cliente eligió de la lista el producto «Chaqueta Andes», id CHQ.)"
    assert tap_text("Sí", "answer:si") == "(El cliente respondió «Sí» a tu pregunta anterior.)"
    assert tap_text("hola", None) == "hola" and tap_text("Ver menú", "menu") == "Ver menú"


async def test_the_ai_stage_sends_a_list_when_its_search_found_several_products() -> None:
    catalog = MemoryCatalog(MANY[:3])
    m = ToolModel((call("search_products", query="chaqueta"),), said("Tenemos 3 chaquetas impermeables."))
    h, _, _ = handler(m, catalog=catalog)
    emits = await h(request("¿tienen chaquetas impermeables?", tenant=SHOP), META)
    reply = emits[0].event
    assert isinstance(reply, ReplyRequested) and reply.payload.kind == "interactive"
    assert reply.payload.text == "Tenemos 3 chaquetas impermeables."  # the turn and /api/chat keep the text
    assert reply.payload.interactive is not None and reply.payload.interactive["type"] == "list"
    assert reply.trace.decision_path[-1] == "ai:interactive:list"


async def test_a_tenant_that_disables_interactive_replies_gets_text() -> None:
    tenant = replace(SHOP, tools=ToolsSettings(interactive=False))
    m = ToolModel((call("search_products", query="chaqueta"),), said("Tenemos 3 chaquetas impermeables."))
    h, _, _ = handler(m, tenant=tenant, catalog=MemoryCatalog(MANY[:3]))
    reply = (await h(request("¿tienen chaquetas impermeables?", tenant=tenant), META))[0].event
    assert isinstance(reply, ReplyRequested) and reply.payload.kind == "text" and reply.payload.interactive is None


async def test_a_tap_reaches_the_model_as_the_choice_it_is() -> None:
    m = ToolModel(said("¡Buena elección! La P1 está en talla S y M."))
    h, _, _ = handler(m)
    ev = request("Chaqueta impermeable modelo 1", tenant=SHOP)
    ev = ev.model_copy(update={"payload": ev.payload.model_copy(update={"message_type": "interactive",
                                                                        "reply_id": "product:P1"})})
    await h(ev, META)
    assert m.calls[0].messages[-1].content == \
        "(El cliente eligió de la lista el producto «Chaqueta impermeable modelo 1», id P1.)"


async def test_the_ai_stage_sends_one_product_as_a_product_message_or_as_its_image() -> None:
    with_id = replace(SHOP, tools=ToolsSettings(meta_catalog_id="CAT123"))
    for tenant, kind in ((with_id, "interactive"), (SHOP, "image")):
        m = ToolModel((call("search_products", query="chaqueta"),), said("La Chaqueta Andes está a 100000 COP."))
        h, _, _ = handler(m, tenant=tenant, catalog=MemoryCatalog([IMAGED]))
        reply = (await h(request("¿tienen la chaqueta?", tenant=tenant), META))[0].event
        assert isinstance(reply, ReplyRequested) and reply.payload.kind == kind
        assert reply.payload.text == "La Chaqueta Andes está a 100000 COP."
        if kind == "image":
            assert reply.payload.media is not None and reply.payload.media.link == IMAGED["image_link"]
            assert reply.payload.media.caption == reply.payload.text
            assert reply.trace.decision_path[-1] == "ai:image"
        else:
            assert reply.payload.interactive == {"type": "product", "body": {"text": reply.payload.text},
                                                 "action": {"catalog_id": "CAT123", "product_retailer_id": "P0-M"}}


async def test_an_order_reaches_the_model_with_its_items() -> None:
    m = ToolModel(said("¡Gracias por tu pedido de 2 Chaquetas Andes!"))
    h, _, _ = handler(m, catalog=MemoryCatalog([IMAGED]))
    ev = request("", tenant=SHOP)
    order = Order(catalog_id="CAT123", items=[OrderItem(product_retailer_id="P0-M", quantity=2,
                                                        item_price=100000, currency="COP"),
                                         OrderItem(product_retailer_id="GONE-1")])
    ev = ev.model_copy(update={"payload": ev.payload.model_copy(update={"message_type": "order", "order": order})})
    await h(ev, META)
    assert m.calls[0].messages[-1].content == (  # named from the catalog; an unknown item keeps its id
        f"(El cliente envió un pedido desde el catálogo: 2 × {IMAGED['title']} (id P0-M) a 100000 COP; "
        "1 × id GONE-1.)")
