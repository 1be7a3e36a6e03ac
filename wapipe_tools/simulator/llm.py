"""An OpenAI-compatible chat-completions endpoint that answers deterministically from the prompt.

Latency, failures and timeouts are set through `POST /_sim/llm`; usage counts roughly 4 chars per token.
Image content parts are "seen" through the description a test registered with the media (`POST /_sim/media`).
Offered tools, it calls them for product and order questions and answers from their results (`tool_calls.py`).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import unicodedata
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from wapipe_tools.simulator import tool_calls
from wapipe_tools.simulator.state import SimState
from wapipe_tools.simulator.vision import describe_image, image_parts

router = APIRouter(prefix="/v1")

TOPICS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("envio", "envia", "domicilio", "llega", "despacho"), "envíos",
     "Hacemos envíos a todo el país; llegan en 2 a 5 días hábiles."),
    (("pago", "pagar", "tarjeta", "nequi", "transferencia"), "pagos",
     "Puedes pagar con tarjeta, transferencia o contra entrega."),
    (("horario", "abren", "cierran", "hora"), "horarios",
     "Atendemos de lunes a sábado de 9:00 a 19:00."),
    (("talla", "medida", "horma"), "tallas",
     "Tenemos tallas de la 34 a la 44; te ayudo a elegir la tuya."),
    (("devol", "cambio", "garantia"), "cambios y devoluciones",
     "Tienes 30 días para cambios y devoluciones con la factura."),
    (("precio", "cuesta", "valor", "descuento"), "precios",
     "Los precios están en el catálogo y esta semana hay 10% de descuento."),
)
HANDOFF_WORDS = ("humano", "asesor", "persona", "queja", "reclamo")


def _plain(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text.lower()) if unicodedata.category(c) != "Mn")


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def answer_for(question: str) -> tuple[str, bool]:
    """A short Spanish answer that names the question's topic, and whether a person should take over."""
    plain = _plain(question)
    handoff = any(w in plain for w in HANDOFF_WORDS)
    for words, topic, text in TOPICS:
        if any(w in plain for w in words):
            return f"Sobre {topic}: {text}", handoff
    snippet = re.sub(r"\s+", " ", question).strip()[:60]
    return f"Gracias por escribirnos. Sobre «{snippet}»: te ayudamos con gusto, ¿nos das más detalles?", handoff


def openai_error(status: int, message: str, kind: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "param": None, "code": kind}},
                        status_code=status)


async def injected_failure(state: SimState) -> JSONResponse | None:
    """Latency, a hang or an error as set by `POST /_sim/llm`; None when the call should go on."""
    cfg = state.llm
    if cfg.timeout:
        await asyncio.sleep(3600)  # the client's timeout fires first
    if cfg.latency_s:
        await asyncio.sleep(cfg.latency_s)
    if cfg.fail_next > 0 or (cfg.fail_rate and state.rng.random() < cfg.fail_rate):
        cfg.fail_next = max(0, cfg.fail_next - 1)
        kind = "rate_limit_exceeded" if cfg.fail_status == 429 else "server_error"
        return openai_error(cfg.fail_status, "injected failure", kind)
    return None


def authorized(request: Request, state: SimState) -> bool:
    auth = request.headers.get("authorization", "")
    key = auth[7:] if auth.startswith("Bearer ") else ""
    return bool(key) and (state.llm_api_key is None or key == state.llm_api_key)


@router.get("/models")
async def models(request: Request) -> JSONResponse:
    state: SimState = request.app.state.sim
    if not authorized(request, state):
        return openai_error(401, "Incorrect API key provided", "invalid_api_key")
    return JSONResponse({"object": "list", "data": [
        {"id": state.llm.model, "object": "model", "created": 0, "owned_by": "wapipe-simulator"}]})


@router.post("/chat/completions")
async def chat_completions(request: Request) -> JSONResponse:
    state: SimState = request.app.state.sim
    cfg = state.llm
    if not authorized(request, state):
        return openai_error(401, "Incorrect API key provided", "invalid_api_key")
    try:
        body = json.loads(await request.body())
        messages = body["messages"]
    except (ValueError, KeyError, TypeError):
        return openai_error(400, "messages is required", "invalid_request_error")
    if (injected := await injected_failure(state)) is not None:
        return injected
    try:
        images = [describe_image(state, p) for m in messages if isinstance(m, dict) for p in image_parts(m)]
    except ValueError as e:
        return openai_error(400, str(e), "invalid_image_url")

    users = [_content_text(m.get("content")) for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    question = users[-1] if users else ""
    asked = [_content_text(m.get("content")) for m in messages if isinstance(m, dict) and m.get("role") != "assistant"]
    results = tool_calls.results_since_last_user(messages)
    call = None if results else tool_calls.tool_call_for(question, body.get("tools"))
    if call is not None:  # the real loop: ask for a tool, answer once its result comes back
        return _completion(body, cfg.model, messages, None, [call])
    if results:
        answer, handoff = tool_calls.compose(results), False
    elif images and any("describ" in _plain(t) for t in asked):
        answer, handoff = " ".join(images), False  # a captioning request: the stand-in describes what it "sees"
    else:
        answer, handoff = answer_for(" ".join([question, *images]))
    fmt = (body.get("response_format") or {}).get("type")
    content = json.dumps({"answer": answer, "handoff": handoff}, ensure_ascii=False) \
        if fmt in ("json_object", "json_schema") else answer
    return _completion(body, cfg.model, messages, content, None)


def _completion(body: dict[str, Any], model: str, messages: list[Any], content: str | None,
                calls: list[dict[str, Any]] | None) -> JSONResponse:
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
    if calls:
        message["tool_calls"] = calls
    out_chars = len(content or "") + len(json.dumps(calls or []))
    prompt_chars = sum(len(_content_text(m.get("content"))) for m in messages if isinstance(m, dict))
    prompt_chars += len(json.dumps(body.get("tools") or []))
    prompt_tokens, completion_tokens = max(1, prompt_chars // 4), max(1, out_chars // 4)
    return JSONResponse({
        "id": "chatcmpl-" + uuid.uuid4().hex[:24],
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model") or model,
        "choices": [{"index": 0, "message": message, "logprobs": None,
                     "finish_reason": "tool_calls" if calls else "stop"}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
    })
