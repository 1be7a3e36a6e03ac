"""Real-shaped WhatsApp webhooks (messages, statuses and the WhatsApp Business app's echoes), signed like Meta
signs them, posted to ingress."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from typing import Any

import httpx

from schemas.meta.signature import webhook_headers
from wapipe.logging import mask_phone
from wapipe_tools.simulator.state import SimState

log = logging.getLogger(__name__)


def new_wamid() -> str:
    return "wamid.HBgM" + uuid.uuid4().hex.upper()


def envelope(state: SimState, phone_number_id: str, value: dict[str, Any], field: str = "messages") -> dict[str, Any]:
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": state.display_phone_number, "phone_number_id": phone_number_id},
             **value}
    return {"object": "whatsapp_business_account",
            "entry": [{"id": state.waba_id, "changes": [{"value": value, "field": field}]}]}


def inbound_message(state: SimState, *, phone_number_id: str, wa_id: str, profile_name: str,
                    user_id: str | None, msg_type: str, obj: dict[str, Any], wamid: str | None = None,
                    context: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    """-> (wamid, webhook body) for one customer message of any Meta type."""
    wamid = wamid or new_wamid()
    contact: dict[str, Any] = {"profile": {"name": profile_name}, "wa_id": wa_id}
    message: dict[str, Any] = {"from": wa_id, "id": wamid, "timestamp": str(int(time.time())), "type": msg_type,
                               msg_type: obj}
    if user_id:
        contact["user_id"] = user_id
        message["from_user_id"] = user_id
    if context:
        message["context"] = context
    return wamid, envelope(state, phone_number_id, {"contacts": [contact], "messages": [message]})


def business_echo(state: SimState, *, phone_number_id: str, to: str, to_user_id: str | None, msg_type: str,
                  obj: dict[str, Any], wamid: str | None = None) -> tuple[str, dict[str, Any]]:
    """-> (wamid, `smb_message_echoes` webhook body): a person of the business wrote `obj` to the customer `to`
    from the WhatsApp Business app on the same number (coexistence)."""
    wamid = wamid or new_wamid()
    echo: dict[str, Any] = {"from": state.display_phone_number, "to": to, "id": wamid,
                            "timestamp": str(int(time.time())), "type": msg_type, msg_type: obj}
    if to_user_id:
        echo["to_user_id"] = to_user_id
    return wamid, envelope(state, phone_number_id, {"message_echoes": [echo]}, field="smb_message_echoes")


def status_object(*, wamid: str, recipient: str, status: str, callback_data: str | None) -> dict[str, Any]:
    """One entry of `value.statuses`, shaped as Meta sends it."""
    st: dict[str, Any] = {"id": wamid, "status": status, "timestamp": str(int(time.time())),
                          "recipient_id": recipient}
    if status in ("sent", "delivered"):
        st["conversation"] = {"id": uuid.uuid4().hex, "origin": {"type": "service"}}
        st["pricing"] = {"billable": False, "pricing_model": "PMP", "category": "service",
                         "type": "free_customer_service"}
    if callback_data:
        st["biz_opaque_callback_data"] = callback_data
    return st


async def post_signed(client: httpx.AsyncClient, state: SimState, body: dict[str, Any]) -> int:
    """Serialise once, sign those exact bytes, post them; -> ingress's HTTP status (0 when unreachable)."""
    if not state.ingress_url:
        return 0
    raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    headers = webhook_headers(raw, state.app_secret)
    try:
        r = await client.post(state.ingress_url, content=raw, headers=headers)
    except httpx.HTTPError as e:
        log.warning("webhook post to %s failed: %s", state.ingress_url, type(e).__name__)
        return 0
    state.webhook_log.append({"status": r.status_code, "body": body})
    return r.status_code


class StatusBatcher:
    """Posts status webhooks the way Meta does under load: statuses that fall due together go out in one signed
    webhook (`value.statuses` is a list), per phone number, at most `max_batch` each. A status waits at most
    `window_s` for company; its caller gets ingress's HTTP status for the webhook that carried it."""

    def __init__(self, client: httpx.AsyncClient, state: SimState, *, window_s: float = 0.02,
                 max_batch: int = 100) -> None:
        self.client, self.state = client, state
        self.window_s, self.max_batch = window_s, max_batch
        self._pending: dict[str, list[tuple[dict[str, Any], asyncio.Future[int]]]] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._posts: set[asyncio.Task[None]] = set()

    async def post(self, phone_number_id: str, status: dict[str, Any]) -> int:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[int] = loop.create_future()
        batch = self._pending.setdefault(phone_number_id, [])
        batch.append((status, done))
        if len(batch) >= self.max_batch:
            self._flush(phone_number_id)
        elif phone_number_id not in self._timers:
            self._timers[phone_number_id] = loop.call_later(self.window_s, self._flush, phone_number_id)
        return await done

    def _flush(self, phone_number_id: str) -> None:
        if (timer := self._timers.pop(phone_number_id, None)) is not None:
            timer.cancel()
        batch = self._pending.pop(phone_number_id, [])
        if batch:
            task = asyncio.create_task(self._post(phone_number_id, batch))
            self._posts.add(task)
            task.add_done_callback(self._posts.discard)

    async def _post(self, phone_number_id: str, batch: list[tuple[dict[str, Any], asyncio.Future[int]]]) -> None:
        code = 0
        try:
            code = await post_signed(self.client, self.state, envelope(
                self.state, phone_number_id, {"statuses": [st for st, _ in batch]}))
        finally:
            for _, done in batch:
                if not done.done():
                    done.set_result(code)

    async def aclose(self) -> None:
        for pnid in list(self._pending):
            self._flush(pnid)
        await asyncio.gather(*self._posts, return_exceptions=True)


async def post_statuses(batcher: StatusBatcher, *, phone_number_id: str, wamid: str, recipient: str,
                        callback_data: str | None) -> None:
    """sent -> delivered -> read for one accepted message, spaced by `status_delay_s`; each status is posted
    only after the previous one reached ingress."""
    for status in ("sent", "delivered", "read"):
        await asyncio.sleep(batcher.state.status_delay_s)
        code = await batcher.post(phone_number_id, status_object(
            wamid=wamid, recipient=recipient, status=status, callback_data=callback_data))
        if code == 0:
            log.debug("status %s for %s not delivered", status, mask_phone(recipient))
            return
