"""Every kind a reply can be, against Meta's documented limits: what goes out, and what is refused before sending
(with the broken rule in the ReplyFailed's title)."""

from __future__ import annotations

from typing import Any

import pytest

from schemas.events import Location, OutboundMedia, QuotedMessage, Recipient, ReplyRequestedPayload
from services.sender.bodies import message_bodies
from services.sender.plan import UNSENDABLE, Deliver, Refuse, plan_reply
from services.sender.ports import SendPolicy


def payload(kind: str, **extra: Any) -> ReplyRequestedPayload:
    return ReplyRequestedPayload(reply_id="r1", to=Recipient(wa_id="573001112233"), kind=kind,  # type: ignore[arg-type]
                                 **extra)


def interactive(kind: str, action: dict[str, Any], body: str | None = "Elige", **more: Any) -> ReplyRequestedPayload:
    obj: dict[str, Any] = {"type": kind, "action": action, **more}
    if body is not None:
        obj["body"] = {"text": body}
    return payload("interactive", interactive=obj)


def refused(p: ReplyRequestedPayload) -> str:
    plan = plan_reply(p, SendPolicy(), window_open=True)
    assert isinstance(plan, Refuse) and plan.reason == UNSENDABLE and plan.code is None
    return plan.title


def buttons(*titles: str) -> dict[str, Any]:
    return {"buttons": [{"type": "reply", "reply": {"id": f"b{i}", "title": t}} for i, t in enumerate(titles)]}


def rows(n: int, *, title: str = "Talla", id_len: int = 4) -> list[dict[str, Any]]:
    return [{"id": f"{i}".rjust(id_len, "r"), "title": f"{title} {i}"[:24]} for i in range(n)]


CTA = {"name": "cta_url", "parameters": {"display_text": "Ver pedido", "url": "https://tienda.example/p/1"}}
FLOW = {"name": "flow", "parameters": {"flow_message_version": "3", "flow_id": "1234", "flow_cta": "Reservar",
                                       "flow_action": "navigate",
                                       "flow_action_payload": {"screen": "CITA"}}}


# --- interactive kinds that were "unsendable reply" before ------------------------------------------------------

@pytest.mark.parametrize("p", [
    interactive("cta_url", CTA, header={"type": "text", "text": "Tu pedido"}, footer={"text": "Tienda"}),
    interactive("product", {"catalog_id": "cat1", "product_retailer_id": "SKU-1"}, body=None),
    interactive("product_list", {"catalog_id": "cat1", "sections": [
        {"title": "Tenis", "product_items": [{"product_retailer_id": "SKU-1"}, {"product_retailer_id": "SKU-2"}]},
        {"title": "Botas", "product_items": [{"product_retailer_id": "SKU-3"}]}]},
        header={"type": "text", "text": "Catálogo"}),
    interactive("flow", FLOW),
    interactive("location_request_message", {"name": "send_location"}, body="¿Dónde te entregamos?"),
])
def test_new_interactive_kinds_validate_and_go_out_as_given(p: ReplyRequestedPayload) -> None:
    plan = plan_reply(p, SendPolicy(), window_open=True)
    assert isinstance(plan, Deliver)
    [part] = plan.parts
    assert part.body["type"] == "interactive" and part.body["interactive"] == p.interactive


def test_a_list_body_may_be_4096_characters_and_a_button_body_1024() -> None:
    section = [{"title": "Tallas", "rows": rows(3)}]
    assert message_bodies(interactive("list", {"button": "Ver", "sections": section}, body="x" * 4096))
    assert "4096" in refused(interactive("list", {"button": "Ver", "sections": section}, body="x" * 4097))
    assert message_bodies(interactive("button", buttons("Sí", "No"), body="x" * 1024))
    assert "1024" in refused(interactive("button", buttons("Sí", "No"), body="x" * 1025))
    assert "1024" in refused(interactive("cta_url", CTA, body="x" * 1025))


@pytest.mark.parametrize("field", ["header", "footer"])
def test_header_and_footer_texts_are_at_most_60_characters(field: str) -> None:
    value = {"type": "text", "text": "h" * 60} if field == "header" else {"text": "f" * 60}
    assert message_bodies(interactive("button", buttons("Sí"), **{field: value}))
    over = {"type": "text", "text": "h" * 61} if field == "header" else {"text": "f" * 61}
    assert "60" in refused(interactive("button", buttons("Sí"), **{field: over}))


def test_button_titles_are_unique_at_most_three_and_20_characters() -> None:
    assert "unique" in refused(interactive("button", buttons("Sí", "sí ")))
    assert refused(interactive("button", buttons("a", "b", "c", "d")))
    assert "20" in refused(interactive("button", buttons("t" * 21)))
    assert message_bodies(interactive("button", buttons("t" * 20, "Otra", "Tercera")))


def test_list_rows_sections_titles_and_ids_follow_metas_limits() -> None:
    def lst(sections: list[dict[str, Any]], button: str = "Ver") -> ReplyRequestedPayload:
        return interactive("list", {"button": button, "sections": sections})

    assert message_bodies(lst([{"title": "A", "rows": rows(10)}]))
    assert message_bodies(lst([{"title": "A", "rows": rows(5)}, {"title": "B", "rows": rows(5, id_len=6)}]))
    assert "at most 10 rows" in refused(lst([{"title": "A", "rows": rows(6)},
                                             {"title": "B", "rows": rows(5, id_len=6)}]))
    assert "24" in refused(lst([{"rows": [{"id": "1", "title": "t" * 25}]}]))
    assert "200" in refused(lst([{"rows": [{"id": "i" * 201, "title": "Talla"}]}]))
    assert message_bodies(lst([{"rows": [{"id": "i" * 200, "title": "t" * 24}]}]))
    assert "unique" in refused(lst([{"title": "A", "rows": [{"id": "1", "title": "x"}, {"id": "1", "title": "y"}]}]))
    assert "title" in refused(lst([{"rows": rows(1)}, {"title": "B", "rows": rows(1, id_len=6)}]))  # all titled
    assert "20" in refused(lst([{"rows": rows(1)}], button="b" * 21))
    eleven = [{"title": f"S{i}", "rows": [{"id": f"id{i}", "title": "x"}]} for i in range(11)]
    assert refused(lst(eleven))


def test_cta_flow_product_and_location_request_shapes_are_checked() -> None:
    long_cta = {"name": "cta_url", "parameters": {"display_text": "d" * 21, "url": "https://tienda.example"}}
    assert "display_text" in refused(interactive("cta_url", long_cta))
    assert "url" in refused(interactive("cta_url", {"name": "cta_url", "parameters": {
        "display_text": "Ver", "url": "javascript:alert(1)"}}))
    assert "body" in refused(interactive("cta_url", CTA, body=None))
    both = {**FLOW, "parameters": {**FLOW["parameters"], "flow_name": "citas"}}  # type: ignore[dict-item]
    assert "flow_id" in refused(interactive("flow", both))
    assert "header" in refused(interactive("product_list", {"catalog_id": "c", "sections": [
        {"product_items": [{"product_retailer_id": "SKU"}]}]}))
    thirty_one = [{"title": f"S{i}", "product_items": [{"product_retailer_id": f"SKU{i}-{j}"} for j in range(4)]}
                  for i in range(8)]
    assert "30 products" in refused(interactive("product_list", {"catalog_id": "c", "sections": thirty_one},
                                                header={"type": "text", "text": "Catálogo"}))
    assert "header" in refused(interactive("location_request_message", {"name": "send_location"},
                                           header={"type": "text", "text": "x"}))
    # an action that belongs to another type is refused, not sent half-understood
    assert "action" in refused(interactive("cta_url", buttons("Sí")))


# --- media, location, contacts, quoted replies ------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "media", "expected"), [
    ("image", OutboundMedia(media_id="m1", caption="Así queda"), {"id": "m1", "caption": "Así queda"}),
    ("video", OutboundMedia(link="https://cdn.example/v.mp4"), {"link": "https://cdn.example/v.mp4"}),
    ("document", OutboundMedia(media_id="m2", caption="Factura", filename="factura.pdf"),
     {"id": "m2", "caption": "Factura", "filename": "factura.pdf"}),
    ("audio", OutboundMedia(media_id="m3"), {"id": "m3"}),
    ("sticker", OutboundMedia(media_id="m4"), {"id": "m4"}),
])
def test_media_by_id_or_link_with_caption_and_filename_where_meta_allows(
        kind: str, media: OutboundMedia, expected: dict[str, Any]) -> None:
    [body] = message_bodies(payload(kind, media=media))
    assert body["type"] == kind and body[kind] == expected


def test_no_caption_on_audio_or_stickers_and_unresolved_media_is_not_sent() -> None:
    assert "caption" in refused(payload("audio", media=OutboundMedia(media_id="m3", caption="escucha")))
    assert "not uploaded" in refused(payload("image", media=OutboundMedia(object_key="t/abc")))
    assert "without media" in refused(payload("image"))
    assert "1024" in str(pytest.raises(ValueError, OutboundMedia, media_id="m", caption="c" * 1025).value)
    with pytest.raises(ValueError, match="exactly one"):
        OutboundMedia(media_id="m", link="https://x.example/a.png")


def test_location_and_contacts() -> None:
    [loc] = message_bodies(payload("location", location=Location(latitude=4.65, longitude=-74.05, name="Tienda",
                                                                 address="Cra 7 # 72-10", url="https://x")))
    assert loc["location"] == {"latitude": 4.65, "longitude": -74.05, "name": "Tienda", "address": "Cra 7 # 72-10"}
    assert "latitude" in refused(payload("location", location=Location(latitude=91, longitude=0)))
    card = {"name": {"formatted_name": "Tienda Demo"}, "phones": [{"phone": "+57 300 111 2233", "type": "WORK"}]}
    [contacts] = message_bodies(payload("contacts", contacts=[card]))
    assert contacts["contacts"] == [card]
    assert "formatted_name" in refused(payload("contacts", contacts=[{"name": {"first_name": "Ana"}}]))


def test_context_quotes_a_message_on_any_kind_and_only_on_the_first_part() -> None:
    quote = QuotedMessage(message_id="wamid.CUSTOMER")
    long_text = ("Detalle de envíos. " * 300).strip()
    parts = message_bodies(payload("text", text=long_text, context=quote))
    assert len(parts) > 1 and parts[0]["context"] == {"message_id": "wamid.CUSTOMER"}
    assert all("context" not in b for b in parts[1:])
    for p in (payload("image", media=OutboundMedia(media_id="m1"), context=quote),
              interactive("button", buttons("Sí")).model_copy(update={"context": quote}),
              payload("location", location=Location(latitude=1, longitude=2), context=quote)):
        assert message_bodies(p)[0]["context"] == {"message_id": "wamid.CUSTOMER"}
