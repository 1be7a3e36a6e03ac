"""A cart sent from the catalog (an `order` message) goes to the model unless the tenant's `non_text.order` rule
says otherwise."""

from __future__ import annotations

from pathlib import Path

from schemas.events import Order, OrderItem
from services.guardrails.route import decide
from tests.unit.guardrails.messages import OPEN_AT, inbound
from wapipe.tenants import NonTextRule, TenantRegistry

TENANTS = Path(__file__).parents[3] / "config" / "tenants"
ORDER = Order(catalog_id="CAT1", items=[OrderItem(product_retailer_id="AM90-BLA-40", quantity=1)])


def test_an_order_goes_to_the_model_unless_the_tenant_rules_otherwise() -> None:
    demo = TenantRegistry(TENANTS).get("100000000000001")
    assert demo is not None
    bare = demo.model_copy(update={"non_text": {k: v for k, v in demo.non_text.items() if k != "order"}})
    msg = inbound(None, message_type="order", order=ORDER).payload
    assert decide(msg, bare, OPEN_AT).route == "ai" and decide(msg, bare, OPEN_AT).rule == "order"
    assert decide(msg, demo, OPEN_AT).route == "ai"  # the demo shop's rule says so too
    handing = demo.model_copy(update={"non_text": {**demo.non_text, "order": NonTextRule(route="handoff")}})
    assert decide(msg, handing, OPEN_AT).route == "handoff"
