"""The tenant file's `tools:` section and the AI service's tool settings refuse what cannot work."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from services.ai.config import AISettings
from services.ai.knowledge import to_ai
from wapipe.tenants import load_tenant
from wapipe.tenants.tools import HttpTool, ToolsSettings

REPO = Path(__file__).resolve().parents[3]
TOOL = {"name": "order_status", "description": "estado de un pedido", "url": "https://api.shop.co/o/{order_id}"}


def test_the_demo_tenant_declares_its_order_tool() -> None:
    t = to_ai(load_tenant(REPO / "config" / "tenants" / "demo.yaml"))
    assert t.tools.max_rounds == 3 and [h.name for h in t.tools.http] == ["order_status"]
    assert t.tools.http[0].header is not None and t.tools.http[0].header.secret == "orders_api_token"


@pytest.mark.parametrize(("change", "why"), [
    ({"name": "search_products"}, "built-in"),
    ({"url": "ftp://api.shop.co/x"}, "http(s) URL"),
    ({"url": "${WAPIPE_GRAPH_API_URL}/x"}, "http(s) URL"),
    ({"parameters": {"type": "array"}}, "type object"),
    ({"timeout_s": 60}, "less than or equal"),
])
def test_an_http_tool_that_cannot_work_is_refused(change: dict[str, object], why: str) -> None:
    with pytest.raises(ValidationError) as err:
        HttpTool.model_validate({**TOOL, **change})
    assert why in str(err.value)


def test_tool_names_are_unique_and_rounds_bounded() -> None:
    with pytest.raises(ValidationError):
        ToolsSettings.model_validate({"http": [TOOL, TOOL]})
    with pytest.raises(ValidationError):
        ToolsSettings.model_validate({"max_rounds": 20})


def test_tool_secrets_are_a_json_object_and_never_echoed() -> None:
    s = AISettings(_env_file=None, ai_tool_secrets='{"orders": "s3cr3t-value"}')  # type: ignore[call-arg]
    assert s.tool_secrets() == {"orders": "s3cr3t-value"} and AISettings(_env_file=None).tool_secrets() == {}  # type: ignore[call-arg]
    with pytest.raises(ValidationError) as err:
        AISettings(_env_file=None, ai_tool_secrets='["s3cr3t-value"]')  # type: ignore[call-arg]
    assert "JSON object of strings" in str(err.value) and "s3cr3t-value" not in str(err.value)
