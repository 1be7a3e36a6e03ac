"""`/_sim/*`: what tests and people use to drive the simulator (inspect sends, act as a customer, inject faults)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator

from wapipe_tools.simulator.state import Fault, LLMConfig, SimState
from wapipe_tools.simulator.webhooks import business_echo, inbound_message, post_signed

router = APIRouter(prefix="/_sim")


def _state(request: Request) -> SimState:
    state: SimState = request.app.state.sim
    return state


class InboundIn(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    from_: str = Field(alias="from", min_length=1)
    text: str | None = None
    type: str | None = None
    object: dict[str, Any] | None = None
    profile_name: str = "Cliente"
    user_id: str | None = None
    phone_number_id: str = "100000000000001"
    context: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _content(self) -> InboundIn:
        if self.text is None and (self.type is None or self.object is None):
            raise ValueError("give text, or type and object")
        return self


class EchoIn(BaseModel):
    """A person of the business writing to a customer from the WhatsApp Business app (`smb_message_echoes`)."""

    model_config = ConfigDict(extra="forbid")

    to: str = Field(min_length=1)
    text: str = Field(min_length=1)
    to_user_id: str | None = None
    phone_number_id: str = "100000000000001"
    message_id: str | None = Field(default=None, description="the echo's wamid (default: a new one); a wamid the "
                                   "business sent through the API plays Meta echoing wapipe's own message")


class FaultIn(BaseModel):
    kind: Literal["5xx", "timeout", "slow", "code"]
    status: int = 503
    code: int = 131000
    delay_s: float = 10.0
    count: int | None = Field(default=None, ge=1)
    fraction: float | None = Field(default=None, ge=0, le=1)
    to: str | None = None
    applies_to: Literal["messages", "status", "all", "upload"] = "messages"


class WindowIn(BaseModel):
    to: str
    phone_number_id: str = "100000000000001"
    open: bool = True


class LimitsIn(BaseModel):
    number_rate: float | None = Field(default=None, gt=0)
    number_burst: float | None = Field(default=None, ge=1)
    pair_interval_s: float | None = Field(default=None, gt=0)
    pair_burst: float | None = Field(default=None, ge=1)
    enforce_window: bool | None = None
    status_webhooks: bool | None = None
    status_delay_s: float | None = Field(default=None, ge=0)


class LLMIn(BaseModel):
    latency_s: float = Field(default=0.0, ge=0)
    fail_rate: float = Field(default=0.0, ge=0, le=1)
    fail_status: int = 500
    fail_next: int = Field(default=0, ge=0)
    timeout: bool = False
    model: str = "gpt-4o-mini"


@router.get("/messages")
async def list_messages(request: Request, to: str | None = None) -> dict[str, Any]:
    state = _state(request)
    return {"messages": [m.public() for m in state.messages_to(to)], "reads": state.reads,
            "uploads": state.uploads}


@router.post("/inbound")
async def inbound(body: InboundIn, request: Request) -> dict[str, Any]:
    state = _state(request)
    msg_type, obj = ("text", {"body": body.text}) if body.text is not None else (body.type or "", body.object or {})
    wamid, hook = inbound_message(state, phone_number_id=body.phone_number_id, wa_id=body.from_,
                                  profile_name=body.profile_name, user_id=body.user_id, msg_type=msg_type, obj=obj,
                                  context=body.context)
    for user in filter(None, (body.from_, body.user_id)):
        state.open_window(body.phone_number_id, user)
    status = await post_signed(request.app.state.http, state, hook)
    if state.ingress_url and status == 0:
        raise HTTPException(502, f"ingress at {state.ingress_url} unreachable")
    return {"message_id": wamid, "ingress_status": status, "webhook": hook}


@router.post("/echo")
async def echo(body: EchoIn, request: Request) -> dict[str, Any]:
    state = _state(request)
    wamid, hook = business_echo(state, phone_number_id=body.phone_number_id, to=body.to, to_user_id=body.to_user_id,
                                msg_type="text", obj={"body": body.text}, wamid=body.message_id)
    status = await post_signed(request.app.state.http, state, hook)
    if state.ingress_url and status == 0:
        raise HTTPException(502, f"ingress at {state.ingress_url} unreachable")
    return {"message_id": wamid, "ingress_status": status, "webhook": hook}


@router.post("/faults")
async def add_fault(body: FaultIn, request: Request) -> dict[str, Any]:
    state = _state(request)
    state.faults.append(Fault(**body.model_dump()))
    return {"faults": len(state.faults)}


@router.delete("/faults")
async def clear_faults(request: Request) -> dict[str, Any]:
    _state(request).faults.clear()
    return {"faults": 0}


@router.post("/window")
async def window(body: WindowIn, request: Request) -> dict[str, Any]:
    state = _state(request)
    if body.open:
        state.open_window(body.phone_number_id, body.to)
    else:
        state.windows.pop((body.phone_number_id, body.to), None)
    return {"open": state.window_open(body.phone_number_id, body.to)}


@router.post("/limits")
async def limits(body: LimitsIn, request: Request) -> dict[str, Any]:
    state = _state(request)
    for k, v in body.model_dump(exclude_none=True).items():
        setattr(state, k, v)
    state.number_buckets.clear()
    state.pair_buckets.clear()
    return {"ok": True}


@router.post("/llm")
async def llm(body: LLMIn, request: Request) -> dict[str, Any]:
    _state(request).llm = LLMConfig(**body.model_dump())
    return {"ok": True}


@router.post("/reset")
async def reset(request: Request) -> dict[str, Any]:
    _state(request).reset()
    return {"ok": True}
