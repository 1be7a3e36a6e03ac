"""The AI stage's interactive answers (`services/ai/interactive.py`) reach the simulated Graph API as Meta takes
them: a single product, a product list, reply buttons for options, and a product's image by link."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis

from schemas.events import OutboundMedia
from services.ai.interactive import choices
from services.sender.handlers import Sender
from tests.integration.sender.conftest import open_window, reply, sent
from wapipe.runtime.types import RecordMeta
from wapipe_tools.simulator.serve import BackgroundSimulator

META = RecordMeta(topic="wa.outbound.v1", partition=0, offset=0, key=None, timestamp_ms=None)
IMAGE = "https://93.184.216.34/img/chaqueta-andes.jpg"  # a public address: the outbound guard admits it
PRODUCTS = [{"id": f"CHQ{i}-M", "item_group_id": f"CHQ{i}", "title": f"Chaqueta Andes {i}",
             "price": f"{189900 + i} COP", "size": ["S", "M"], "image_link": IMAGE} for i in range(4)]


def results(*products: dict[str, Any]) -> list[str]:
    return [json.dumps({"results": list(products)})]


async def test_product_product_list_and_option_buttons_are_accepted_by_the_graph_api(
        sim: BackgroundSimulator, media_sender: Callable[[], Sender], redis_client: aioredis.Redis) -> None:
    user = "573002230001"
    await open_window(redis_client, sim, user)
    answers = [("La Chaqueta Andes 0 está a 189900 COP.", results(PRODUCTS[0]), "product"),
               ("Tenemos estas chaquetas.", results(*PRODUCTS), "product_list"),
               ("¿La prefieres en negro, blanco o azul?", [], "button")]
    for n, (text, evidence, kind) in enumerate(answers):
        rich = choices(text, evidence, "1354235123431241")
        assert rich is not None and rich.interactive is not None and rich.interactive["type"] == kind
        await media_sender().handle(reply(user, text, n=n, kind="interactive", interactive=rich.interactive), META)
    got = sent(sim, user)
    assert [m["body"]["interactive"]["type"] for m in got] == ["product", "product_list", "button"], got
    assert got[0]["body"]["interactive"]["action"] == {"catalog_id": "1354235123431241",
                                                       "product_retailer_id": "CHQ0-M"}
    assert [b["reply"]["title"] for b in got[2]["body"]["interactive"]["action"]["buttons"]] == \
        ["Negro", "Blanco", "Azul"]


async def test_one_product_without_a_catalog_id_goes_as_its_image_with_the_answer(
        sim: BackgroundSimulator, media_sender: Callable[[], Sender], redis_client: aioredis.Redis) -> None:
    user = "573002230002"
    await open_window(redis_client, sim, user)
    text = "La Chaqueta Andes 0 está a 189900 COP."
    rich = choices(text, results(PRODUCTS[0]))
    assert rich is not None and rich.image_link == IMAGE
    image = OutboundMedia(link=rich.image_link, caption=text)
    await media_sender().handle(reply(user, text, kind="image", media=image), META)
    got = sent(sim, user)
    assert len(got) == 1 and got[0]["media"]["link"] == IMAGE and got[0]["text"] == text, got
