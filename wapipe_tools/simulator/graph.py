"""The Graph API messages endpoint, with Meta's validation, rate limits, window rule and injected faults."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from schemas.meta.graph import FREE_FORM_TYPES, MEDIA_TYPES, MarkRead, parse_request
from wapipe_tools.simulator.errors import meta_error
from wapipe_tools.simulator.media_api import check_send
from wapipe_tools.simulator.state import Fault, SentMessage, SimState
from wapipe_tools.simulator.webhooks import new_wamid, post_statuses

router = APIRouter()


def _state(request: Request) -> SimState:
    state: SimState = request.app.state.sim
    return state


def _text_of(body: dict[str, Any]) -> str | None:
    t = body.get("type")
    if t == "text":
        return str(body["text"]["body"])
    if t == "interactive":
        return str((body["interactive"].get("body") or {}).get("text") or "")
    if t == "template":
        return f"[template {body['template']['name']}]"
    if t == "reaction":
        return str(body["reaction"].get("emoji") or "")
    if t in MEDIA_TYPES:
        return body[t].get("caption")
    return None


async def _apply_fault(fault: Fault) -> Response | None:
    """A response standing in for Meta's, or None when the call should then proceed (slow)."""
    if fault.kind == "slow":
        await asyncio.sleep(fault.delay_s)
        return None
    if fault.kind == "timeout":
        # The request is lost before Meta processed it: hang, then a gateway timeout, nothing recorded.
        await asyncio.sleep(fault.delay_s)
        return JSONResponse({"error": {"message": "timeout", "code": 2}}, status_code=504)
    if fault.kind == "5xx":
        return meta_error(2, "injected service error", status=fault.status)
    return meta_error(fault.code, "injected error")


@router.post("/{version}/{phone_number_id}/messages")
async def send_message(version: str, phone_number_id: str, request: Request) -> Response:
    state = _state(request)
    state.calls += 1
    auth = request.headers.get("authorization", "")
    if not auth.startswith("Bearer ") or auth[7:] != state.access_token:
        return meta_error(190, "Invalid OAuth access token")
    try:
        body = json.loads(await request.body())
        if not isinstance(body, dict):
            raise ValueError("body must be a JSON object")
    except ValueError:
        return meta_error(100, "The request body is not valid JSON")
    try:
        msg = parse_request(body)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        code = 100 if first["type"] in ("missing", "extra_forbidden", "union_tag_invalid") else 131009
        return meta_error(code, f"{where}: {first['msg']}")

    if (refused := check_send(state, body)) is not None:
        return refused
    to = None if isinstance(msg, MarkRead) else msg.address
    fault = state.next_fault(to, isinstance(msg, MarkRead))
    if fault is not None and (resp := await _apply_fault(fault)) is not None:
        return resp

    if isinstance(msg, MarkRead):
        state.reads.append({"phone_number_id": phone_number_id, "message_id": msg.message_id,
                            "typing": msg.typing_indicator is not None, "timestamp": time.time()})
        return JSONResponse({"success": True})

    now = state.clock()
    if not state.take_number(phone_number_id, now):
        return meta_error(130429, "Cloud API message throughput has been reached")
    if state.enforce_window and msg.type in FREE_FORM_TYPES and not state.window_open(phone_number_id, to or ""):
        return meta_error(131047, "Message failed to send because more than 24 hours have passed since the "
                                  "customer last replied to this number.")
    if not state.take_pair(phone_number_id, to or "", now):
        return meta_error(131056, "Too many messages sent from this phone number to the same phone number "
                                  "in a short period of time")

    wamid = new_wamid()
    state.sent.append(SentMessage(id=wamid, phone_number_id=phone_number_id, to=to or "", kind=msg.type,
                                  text=_text_of(body), body=body, at=time.time(),
                                  callback_data=msg.biz_opaque_callback_data))
    if state.status_webhooks and state.ingress_url:
        task = asyncio.create_task(post_statuses(request.app.state.statuses, phone_number_id=phone_number_id,
                                                 wamid=wamid, recipient=to or "",
                                                 callback_data=msg.biz_opaque_callback_data))
        request.app.state.tasks.add(task)
        task.add_done_callback(request.app.state.tasks.discard)
    return JSONResponse({"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}],
                         "messages": [{"id": wamid}]})
