"""Interactive messages (`type: interactive`) with Meta's documented limits, checked before anything is sent.

Reply buttons: body <= 1024, 1-3 buttons, titles <= 20 and unique, ids <= 256. List: body <= 4096, button label
<= 20, <= 10 sections, <= 10 rows in total, row/section titles <= 24, row ids <= 200 and unique, descriptions <= 72,
a title on every section when there are several. `cta_url`: body <= 1024, display text <= 20, an https/http url.
`product` / `product_list`: a catalog id and retailer ids (<= 30 products in <= 10 sections; product_list needs a
text header and a body). `flow`: Flow id or name, CTA <= 30. `location_request_message`: a body, action
`send_location`. Header and footer texts <= 60 everywhere.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

BUTTON_BODY_MAX = 1024  # buttons, cta_url, product, flow, location request
LIST_BODY_MAX = 4096
HEADER_TEXT_MAX = 60
FOOTER_TEXT_MAX = 60
BUTTON_TITLE_MAX = 20
BUTTON_ID_MAX = 256
BUTTONS_MAX = 3
LIST_ROWS_MAX = 10
LIST_SECTIONS_MAX = 10
ROW_TITLE_MAX = 24
ROW_ID_MAX = 200
ROW_DESCRIPTION_MAX = 72
CTA_DISPLAY_MAX = 20
FLOW_CTA_MAX = 30
PRODUCTS_MAX = 30
URL_MAX = 2048

InteractiveType = Literal["button", "list", "cta_url", "product", "product_list", "flow",
                          "location_request_message"]
# Interactive types whose body may be longer than a button message's.
_BODY_LIMIT: dict[str, int] = {"list": LIST_BODY_MAX}
_BODY_REQUIRED = frozenset({"button", "list", "cta_url", "product_list", "flow", "location_request_message"})


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _MediaRef(_Model):
    id: str | None = Field(default=None, min_length=1)
    link: str | None = Field(default=None, min_length=1, max_length=URL_MAX)

    @model_validator(mode="after")
    def _one(self) -> _MediaRef:
        if (self.id is None) == (self.link is None):
            raise ValueError("header media needs exactly one of 'id' or 'link'")
        return self


class DocumentRef(_MediaRef):
    filename: str | None = Field(default=None, max_length=240)


class Header(_Model):
    type: Literal["text", "image", "video", "document"]
    text: str | None = Field(default=None, min_length=1, max_length=HEADER_TEXT_MAX)
    image: _MediaRef | None = None
    video: _MediaRef | None = None
    document: DocumentRef | None = None

    @model_validator(mode="after")
    def _matches(self) -> Header:
        given = {k for k in ("text", "image", "video", "document") if getattr(self, k) is not None}
        if given != {self.type}:
            raise ValueError(f"a {self.type} header carries exactly its '{self.type}' field")
        return self


class Footer(_Model):
    text: str = Field(min_length=1, max_length=FOOTER_TEXT_MAX)


class Body(_Model):
    text: str = Field(min_length=1, max_length=LIST_BODY_MAX)  # per type below


class ReplyButtonRef(_Model):
    id: str = Field(min_length=1, max_length=BUTTON_ID_MAX)
    title: str = Field(min_length=1, max_length=BUTTON_TITLE_MAX)


class ReplyButton(_Model):
    type: Literal["reply"] = "reply"
    reply: ReplyButtonRef


class Row(_Model):
    id: str = Field(min_length=1, max_length=ROW_ID_MAX)
    title: str = Field(min_length=1, max_length=ROW_TITLE_MAX)
    description: str | None = Field(default=None, max_length=ROW_DESCRIPTION_MAX)


class Section(_Model):
    title: str | None = Field(default=None, min_length=1, max_length=ROW_TITLE_MAX)
    rows: list[Row] = Field(min_length=1)


class ProductItem(_Model):
    product_retailer_id: str = Field(min_length=1, max_length=100)


class ProductSection(_Model):
    title: str | None = Field(default=None, min_length=1, max_length=ROW_TITLE_MAX)
    product_items: list[ProductItem] = Field(min_length=1)


class CtaParameters(_Model):
    display_text: str = Field(min_length=1, max_length=CTA_DISPLAY_MAX)
    url: str = Field(pattern=r"^https?://", max_length=URL_MAX)


class FlowParameters(_Model):
    flow_message_version: Literal["3"] = "3"
    flow_id: str | None = Field(default=None, min_length=1)
    flow_name: str | None = Field(default=None, min_length=1)
    flow_token: str | None = Field(default=None, min_length=1, max_length=512)
    flow_cta: str = Field(min_length=1, max_length=FLOW_CTA_MAX)
    flow_action: Literal["navigate", "data_exchange"] = "navigate"
    flow_action_payload: dict[str, Any] | None = None
    mode: Literal["draft", "published"] | None = None

    @model_validator(mode="after")
    def _names_a_flow(self) -> FlowParameters:
        if (self.flow_id is None) == (self.flow_name is None):
            raise ValueError("a flow needs exactly one of 'flow_id' or 'flow_name'")
        return self


class ButtonsAction(_Model):
    buttons: list[ReplyButton] = Field(min_length=1, max_length=BUTTONS_MAX)

    @model_validator(mode="after")
    def _unique(self) -> ButtonsAction:
        titles = [b.reply.title.strip().casefold() for b in self.buttons]
        if len(set(titles)) != len(titles):
            raise ValueError("reply button titles must be unique")
        if len({b.reply.id for b in self.buttons}) != len(self.buttons):
            raise ValueError("reply button ids must be unique")
        return self


class ListAction(_Model):
    button: str = Field(min_length=1, max_length=BUTTON_TITLE_MAX)
    sections: list[Section] = Field(min_length=1, max_length=LIST_SECTIONS_MAX)

    @model_validator(mode="after")
    def _rows(self) -> ListAction:
        rows = [r for s in self.sections for r in s.rows]
        if len(rows) > LIST_ROWS_MAX:
            raise ValueError(f"a list message has at most {LIST_ROWS_MAX} rows in total, got {len(rows)}")
        if len({r.id for r in rows}) != len(rows):
            raise ValueError("list row ids must be unique")
        if len(self.sections) > 1 and any(s.title is None for s in self.sections):
            raise ValueError("every section needs a title when there are several")
        return self


class CtaAction(_Model):
    name: Literal["cta_url"] = "cta_url"
    parameters: CtaParameters


class ProductAction(_Model):
    catalog_id: str = Field(min_length=1)
    product_retailer_id: str = Field(min_length=1, max_length=100)


class ProductListAction(_Model):
    catalog_id: str = Field(min_length=1)
    sections: list[ProductSection] = Field(min_length=1, max_length=LIST_SECTIONS_MAX)

    @model_validator(mode="after")
    def _products(self) -> ProductListAction:
        n = sum(len(s.product_items) for s in self.sections)
        if n > PRODUCTS_MAX:
            raise ValueError(f"a product list has at most {PRODUCTS_MAX} products in total, got {n}")
        if len(self.sections) > 1 and any(s.title is None for s in self.sections):
            raise ValueError("every section needs a title when there are several")
        return self


class FlowAction(_Model):
    name: Literal["flow"] = "flow"
    parameters: FlowParameters


class LocationRequestAction(_Model):
    name: Literal["send_location"] = "send_location"


_ACTIONS: dict[str, type[_Model]] = {
    "button": ButtonsAction, "list": ListAction, "cta_url": CtaAction, "product": ProductAction,
    "product_list": ProductListAction, "flow": FlowAction, "location_request_message": LocationRequestAction,
}


class Interactive(_Model):
    type: InteractiveType
    header: Header | None = None
    body: Body | None = None
    footer: Footer | None = None
    action: dict[str, Any]

    @model_validator(mode="after")
    def _shape(self) -> Interactive:
        try:
            _ACTIONS[self.type].model_validate(self.action)  # the action of this type, and only its fields
        except ValidationError as e:
            first = e.errors()[0]
            where = ".".join(str(x) for x in ("action", *first["loc"]))
            raise ValueError(f"{where}: {first['msg'].replace('Value error, ', '')}") from None
        limit = _BODY_LIMIT.get(self.type, BUTTON_BODY_MAX)
        if self.body is not None and len(self.body.text) > limit:
            raise ValueError(f"a {self.type} message's body has at most {limit} characters, "
                             f"got {len(self.body.text)}")
        if self.body is None and self.type in _BODY_REQUIRED:
            raise ValueError(f"a {self.type} message needs a body")
        if self.header is not None and self.type in ("product", "location_request_message"):
            raise ValueError(f"a {self.type} message takes no header")
        if self.type in ("list", "product_list") and self.header is not None and self.header.type != "text":
            raise ValueError(f"a {self.type} message's header is text")
        if self.type == "product_list" and self.header is None:
            raise ValueError("a product_list message needs a text header")
        return self
