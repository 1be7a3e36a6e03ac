"""The simulated model's tool calls: which tool a question gets, with which arguments, and the answer it writes
from the results."""

from __future__ import annotations

import json
from typing import Any

from wapipe_tools.simulator.tool_calls import compose, results_since_last_user, search_arguments, tool_call_for

TOOLS = [{"type": "function", "function": {"name": n}} for n in ("search_products", "get_product", "order_status")]


def args(call: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
    assert call is not None
    return call["function"]["name"], json.loads(call["function"]["arguments"])


def test_product_questions_search_with_the_size_and_colour_they_name() -> None:
    assert search_arguments("¿tienen la chaqueta impermeable en talla M y sirve para moto?") == {
        "size": "M", "query": "chaqueta impermeable moto"}
    assert search_arguments("hay tenis blancos en 40?") == {"size": "40", "color": "blanco", "query": "tenis"}
    assert args(tool_call_for("cuanto cuestan los adidas superstar", TOOLS)) == (
        "search_products", {"query": "adidas superstar"})


def test_orders_and_picks_get_their_own_tools_and_other_questions_none() -> None:
    assert args(tool_call_for("¿dónde va mi pedido 1043?", TOOLS)) == ("order_status", {"order_id": "1043"})
    assert args(tool_call_for("(El cliente eligió de la lista el producto «Chaqueta», id CHIMPK.)", TOOLS)) == (
        "get_product", {"id": "CHIMPK"})
    assert tool_call_for("¿a qué hora abren?", TOOLS) is None
    assert tool_call_for("¿tienen tenis?", []) is None  # not offered: no call


def test_the_answer_is_composed_from_the_results_it_read() -> None:
    messages = [
        {"role": "user", "content": "¿tienen chaquetas?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "search_products", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": json.dumps({"results": [
            {"title": "Chaqueta Andes", "price": "189900 COP", "sale_price": "149900 COP", "size": ["S", "M"]},
            {"title": "Traje moto", "price": "119900 COP", "availability": "out of stock"}]})},
    ]
    got = results_since_last_user(messages)
    assert compose(got) == ("Tenemos Chaqueta Andes a 149900 COP (tallas S, M); Traje moto a 119900 COP "
                            "[out of stock].")
    assert results_since_last_user([*messages, {"role": "user", "content": "gracias"}]) == []
    assert compose([{"name": "search_products", "result": {"results": []}}]).startswith("No encontré")
    assert compose([{"name": "order_status", "result": {"found": False}}]).startswith("No encontré ese pedido")
