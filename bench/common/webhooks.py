"""Signed inbound webhooks as Meta sends them, the reply ids the pipeline derives for them, and an open-loop
poster that records when ingress accepted each one."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bench.common.http import Conn
from schemas.envelope import derive_id
from schemas.meta.signature import webhook_headers

PHONE_NUMBER_ID = "100000000000001"  # the demo tenant
FAQ_TEXTS = ("¿tienen catálogo?", "¿Qué tallas manejan?")
# Distinct consult questions per message: the AI's answer cache would otherwise answer repeats without the model.
CONSULT = "busco un regalo para mi mamá, ¿qué me recomiendan para la ocasión número {n}?"


@dataclass
class Sent:
    wamid: str
    wa_id: str
    route: str  # "faq" (guardrails' fixed answer) or "ai"
    seq: int  # position of the message in its conversation
    scheduled: float  # wall clock (time.time) the message was due
    accepted: float = 0.0  # wall clock ingress answered 200
    status: int = 0
    posts: int = 0

    @property
    def reply_id(self) -> str:
        """The id guardrails or the AI derive for the reply; the sender puts `<reply_id>:<part>` in the Graph
        API call's biz_opaque_callback_data, which is how a reply at the simulator maps back to its message."""
        return derive_id(self.wamid, "guardrails" if self.route == "faq" else "ai", 0)

    @property
    def reply_ids(self) -> tuple[str, str]:
        """Every reply id that answers this message, its route's first: a FAQ question whose classification ran
        out of its time budget (a starved CPU) is routed to the model and answered by the AI stage instead."""
        other = derive_id(self.wamid, "ai" if self.route == "faq" else "guardrails", 0)
        return self.reply_id, other


def webhook(wa_id: str, wamid: str, text: str, secret: str) -> tuple[bytes, dict[str, str]]:
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": "15550000001", "phone_number_id": PHONE_NUMBER_ID},
             "contacts": [{"profile": {"name": "Cliente"}, "wa_id": wa_id}],
             "messages": [{"from": wa_id, "id": wamid, "timestamp": str(int(time.time())), "type": "text",
                           "text": {"body": text}}]}
    doc = {"object": "whatsapp_business_account",
           "entry": [{"id": "100000000000000", "changes": [{"value": value, "field": "messages"}]}]}
    raw = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
    return raw, webhook_headers(raw, secret)


def text_for(m: Sent) -> str:
    return FAQ_TEXTS[m.seq % len(FAQ_TEXTS)] if m.route == "faq" else CONSULT.format(n=m.wamid[-10:])


def plan(conversations: int, per_conv: int, route: str, rate: float, tag: int,
         route_of: dict[int, str] | None = None) -> list[Sent]:
    """Messages round-robin over conversations, so consecutive messages of one conversation are
    `conversations / rate` seconds apart (keeps the AI's coalescing window and the per-customer pacing out of
    the way unless asked for)."""
    start = time.time() + 0.5
    out = []
    for i in range(conversations * per_conv):
        conv, seq = i % conversations, i // conversations
        wa_id = f"57{tag:03d}{conv:07d}"  # a fresh customer per conversation and phase
        r = route_of.get(conv, route) if route_of else route
        out.append(Sent(f"wamid.B{tag:03d}{uuid.uuid4().hex[:20].upper()}", wa_id, r, seq, start + i / rate))
    return out


@dataclass
class PostStats:
    statuses: dict[int, int] = field(default_factory=dict)
    started: float = 0.0
    ended: float = 0.0


async def post_all(url: str, secret: str, msgs: list[Sent], *, max_conns: int = 64, retry_s: float = 0.0,
                   duplicate: set[str] | None = None) -> PostStats:
    """Post each message at its scheduled time (open loop). With `retry_s`, a non-200 is re-posted (like Meta
    does) until accepted or `retry_s` passes. Messages in `duplicate` are delivered a second time afterwards."""
    stats = PostStats(started=time.time())
    target = urlsplit(url)
    free: asyncio.Queue[Conn] = asyncio.Queue()
    for _ in range(max_conns):
        free.put_nowait(Conn(target.hostname or "127.0.0.1", target.port or 80))

    async def one(m: Sent, again: bool) -> None:
        body, headers = webhook(m.wa_id, m.wamid, text_for(m), secret)
        give_up = time.time() + retry_s
        while True:
            conn = await free.get()
            try:
                status = await conn.status(target.path, body, headers)
            finally:
                free.put_nowait(conn)
            m.posts += 1
            stats.statuses[status] = stats.statuses.get(status, 0) + 1
            if status == 200:
                if not again or not m.accepted:
                    m.status, m.accepted = 200, time.time()
                return
            if time.time() > give_up:
                m.status = m.status or status
                return
            await asyncio.sleep(0.5)

    try:
        tasks = []
        for m in msgs:
            delay = m.scheduled - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(m, False)))
            if duplicate and m.wamid in duplicate:
                tasks.append(asyncio.create_task(_later(one, m)))
        await asyncio.gather(*tasks)
    finally:
        while not free.empty():
            free.get_nowait().close()
    stats.ended = time.time()
    return stats


async def _later(one: Callable[[Sent, bool], Awaitable[None]], m: Sent) -> None:
    await asyncio.sleep(0.2)
    await one(m, True)
