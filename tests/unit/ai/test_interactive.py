"""Choices go out as interactive messages Meta accepts (validated against `schemas.meta.graph`), taps come back
framed for the model, and a tenant can turn it all off."""

from __future__ import annotations

import json
from dataclasses import replace

from schemas.events import ReplyRequested
from schemas.meta.graph import InteractiveMessage
from services.ai.interactive import choices, products_found, tap_text
from tests.unit.ai.fixtures import request
from tests.unit.ai.test_tool_loop import META, SHOP, handler, said
from tests.unit.ai.tool_fakes import MemoryCatalog, ToolModel, call
from wapipe.tenants.tools import ToolsSettings


def results(*products: dict[str, object]) -> str:
    return json.dumps({"results": list(products)})


MANY = [{"id": f"P{i}-M", "item_group_id": f"P{i}", "title": f"Chaqueta impermeable modelo número {i} edición larga",
         "price": f"{100000 + i} COP", "size": ["S", "M"]} for i in range(14)]


def test_several_products_become_a_list_of_at_most_ten_rows_meta_accepts() -> None:
    body = choices("Tenemos estas chaquetas impermeables.", [results(*MANY[:7]), results(*MANY[5:])])
    assert body is not None and body["type"] == "list"
    rows = body["action"]["sections"][0]["rows"]
    assert len(rows) == 10 and [r["id"] for r in rows[:2]] == ["product:P0", "product:P1"]  # each group once
    assert all(len(r["title"]) <= 24 and len(r["description"]) <= 72 for r in rows)
    assert rows[0]["description"] == "100000 COP · tallas S, M"
    InteractiveMessage.model_validate({"messaging_product": "whatsapp", "to": "573001234567",
                                       "type": "interactive", "interactive": body})


def test_a_yes_no_question_gets_reply_buttons() -> None:
    body = choices("La Chaqueta Andes está a 189900 COP. ¿Quieres que te la aparte?", [results(MANY[0])])
    assert body is not None and body["type"] == "button"
    assert [b["reply"]["id"] for b in body["action"]["buttons"]] == ["answer:si", "answer:no"]
    InteractiveMessage.model_validate({"messaging_product": "whatsapp", "to": "573001234567",
                                       "type": "interactive", "interactive": body})


def test_plain_answers_and_one_product_stay_text() -> None:
    assert choices("Abrimos de 9 a 7.", []) is None
    assert choices("Tenemos la Chaqueta Andes.", [results(MANY[0])]) is None
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
