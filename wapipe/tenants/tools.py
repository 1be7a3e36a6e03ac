"""The `tools:` section of a tenant file: how many tool rounds an answer may take, and the tenant's HTTP tools.

The built-in tools (`search_products`, `get_product`, `handoff`) need no configuration. An HTTP tool is declared
with the JSON schema of its arguments; the model fills them in, the AI stage calls the URL. Arguments named in the
URL (`{order_id}`) are put there, URL-encoded; the others go in the query string (GET) or a JSON body (POST). The
URL may start with `${name}`, a base URL the AI service is given (`WAPIPE_AI_TOOL_BASE_URLS`, e.g. the local
simulator's address). A header value is one of the AI service's tool secrets (`WAPIPE_AI_TOOL_SECRETS`, a
Kubernetes secret), named by key, never written in the file. Calls go through the
outbound guard: https only outside dev, no private, loopback or link-local addresses, and only `allowed_hosts`.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

BUILTIN_TOOLS = ("search_products", "get_product", "handoff")
_KEY = r"^[a-z0-9_]{1,64}$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ToolHeader(_Model):
    """One request header whose value is the AI service's tool secret `secret` (with `prefix`)."""

    name: str = Field(pattern=r"^[A-Za-z0-9-]{1,64}$")
    secret: str = Field(pattern=_KEY, description="a key of WAPIPE_AI_TOOL_SECRETS")
    prefix: str = ""


class HttpTool(_Model):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    description: str = Field(min_length=1, max_length=1024)
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}},
                                       description="JSON schema of the arguments (an object)")
    url: str
    method: Literal["GET", "POST"] = "GET"
    header: ToolHeader | None = None
    timeout_s: float = Field(default=3.0, gt=0, le=15)
    max_response_bytes: int = Field(default=16_384, ge=256, le=1_048_576)

    @field_validator("name")
    @classmethod
    def _not_builtin(cls, v: str) -> str:
        if v in BUILTIN_TOOLS:
            raise ValueError(f"{v!r} is a built-in tool name")
        return v

    @field_validator("parameters")
    @classmethod
    def _object_schema(cls, v: dict[str, Any]) -> dict[str, Any]:
        if v.get("type") != "object" or not isinstance(v.get("properties", {}), dict):
            raise ValueError("parameters must be a JSON schema of type object with properties")
        return v

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not re.match(r"^(\$\{[a-z0-9_]{1,64}\}|https?://[^/\s{}]+)(/\S*)?$", v):
            raise ValueError(f"{v!r} is not an http(s) URL or a ${{base}} (WAPIPE_AI_TOOL_BASE_URLS) and a path")
        return v


class ToolsSettings(_Model):
    enabled: bool = Field(default=True, description="offer the model tools at all")
    catalog: bool = Field(default=True, description="offer search_products and get_product")
    interactive: bool = Field(default=True, description="products found: a product, product list, image or "
                              "list message; a yes/no question or up to 3 options: reply buttons (false: text)")
    meta_catalog_id: str | None = Field(default=None, min_length=1, max_length=64,
                                        description="the Meta Commerce catalog id: products are sent as "
                                        "product / product_list messages (none: image + text, list messages)")
    max_rounds: int = Field(default=3, ge=0, le=8, description="tool rounds per answer before the model must answer")
    result_tokens: int = Field(default=600, ge=50, le=8000, description="budget of one tool result the model reads")
    allowed_hosts: list[str] = Field(default_factory=list, description="hosts HTTP tools may call")
    http: list[HttpTool] = Field(default_factory=list)

    @field_validator("http")
    @classmethod
    def _unique(cls, v: list[HttpTool]) -> list[HttpTool]:
        names = [t.name for t in v]
        if len(names) != len(set(names)):
            raise ValueError("HTTP tool names must be unique")
        return v
