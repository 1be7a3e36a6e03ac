"""The coverage phase: after the measured phases, the traffic that the FAQ and AI load never makes, so the
dashboards' error and edge panels have something to draw when Prometheus is asked at the end. Not measured.

Graph API faults (503, 130429 retried; 131047 window closed; 131026 undeliverable), a model that fails (the AI's
fallback) and repeats (the answer cache), a handoff trigger and a message relayed while a person has the
conversation, a flood from one customer, a webhook delivered twice, one badly signed, a failed-delivery status,
/api/chat requests, a webhook with an unreadable message, Meta's account and calls webhooks, an operator's take-over
and release, a reply request the broker delivered twice, and one record no consumer can read on each consumer's
input topic (its DLQ).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

import confluent_kafka
import httpx

from bench.common.stack import BenchStack, sim_post, wait_quiet
from bench.common.webhooks import PHONE_NUMBER_ID, webhook
from schemas.envelope import conversation_key
from schemas.meta.signature import SIGNATURE_HEADER, webhook_headers
from schemas.topics import AI_REQUESTS, HANDOFF, INBOUND, INBOUND_UNDERSTOOD, OUTBOUND

SAMPLES = Path(__file__).parents[2] / "tests" / "data" / "meta" / "v25.0"
# guardrails, ai, sender, notifier, media (and the console, which reads several of them)
POISONED = (INBOUND_UNDERSTOOD, AI_REQUESTS, OUTBOUND, HANDOFF, INBOUND)
HANDOFF_TEXT = "hola, quiero comprar al por mayor para mi tienda"
CONSULT_TEXT = "¿qué zapatos me recomiendan para caminar mucho en la ciudad?"


def _post(http: httpx.Client, url: str, body: tuple[bytes, dict[str, str]], **kw: object) -> int:
    """The HTTP status, or 0 when the server did not answer (a busy machine): edge traffic, not a measurement."""
    try:
        return http.post(url, content=body[0], headers=body[1], **kw).status_code  # type: ignore[arg-type]
    except httpx.HTTPError:
        return 0


def status_failed(wamid: str, recipient: str, secret: str) -> tuple[bytes, dict[str, str]]:
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": "15550000001", "phone_number_id": PHONE_NUMBER_ID},
             "statuses": [{"id": wamid, "status": "failed", "timestamp": str(int(time.time())),
                           "recipient_id": recipient,
                           "errors": [{"code": 131049, "title": "healthy ecosystem engagement",
                                       "message": "healthy ecosystem engagement"}]}]}
    doc = {"object": "whatsapp_business_account",
           "entry": [{"id": "100000000000000", "changes": [{"value": value, "field": "messages"}]}]}
    raw = json.dumps(doc, separators=(",", ":")).encode()
    return raw, webhook_headers(raw, secret)


def signed(doc: dict[str, object], secret: str) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(doc, separators=(",", ":")).encode()
    return raw, webhook_headers(raw, secret)


def unreadable(wa_id: str, wamid: str, secret: str) -> tuple[bytes, dict[str, str]]:
    """A webhook whose one message cannot be read (its timestamp is words): its DLQ, and the part counted."""
    raw, _ = webhook(wa_id, wamid, "¿y envíos?", secret)
    doc = json.loads(raw)
    doc["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = "a las 3"
    return signed(doc, secret)


def media_message(wa_id: str, wamid: str, kind: str, obj: dict[str, object], secret: str
                  ) -> tuple[bytes, dict[str, str]]:
    raw, _ = webhook(wa_id, wamid, "", secret)
    doc = json.loads(raw)
    message = doc["entry"][0]["changes"][0]["value"]["messages"][0]
    del message["text"]
    message.update({"type": kind, kind: obj})
    return signed(doc, secret)


def media_edges(http: httpx.Client, stack: BenchStack, tag: int, secret: str) -> dict[str, int]:
    """A Spanish voice note (espeak-ng, OGG/Opus: heard by the media stage's Whisper), a photo with words (OCR or
    the model's vision) and a photo Meta no longer has (a failed download), through the simulator's media API."""
    from tests.media_support import receipt_png, voice_note

    out: dict[str, int] = {}
    media: list[tuple[str, dict[str, object]]] = []
    if shutil.which("espeak-ng") and shutil.which("ffmpeg"):
        with tempfile.TemporaryDirectory() as folder:
            ogg = voice_note("hola, ¿a qué hora abren?", Path(folder))
        info = http.post(f"{stack.sim_url}/_sim/media", content=ogg,
                         headers={"Content-Type": "audio/ogg; codecs=opus"}).json()
        media.append(("audio", {"id": info["id"], "mime_type": "audio/ogg; codecs=opus", "voice": True}))
    png = receipt_png(["Nequi", "Pago exitoso", "$ 89.900"])
    info = http.post(f"{stack.sim_url}/_sim/media", content=png, headers={"Content-Type": "image/png"},
                     params={"description": "captura de un pago en Nequi por $89.900"}).json()
    media.append(("image", {"id": info["id"], "mime_type": "image/png"}))
    media.append(("image", {"id": "9999999999999999", "mime_type": "image/jpeg", "caption": "¿tienen este?"}))
    for i, (kind, obj) in enumerate(media):
        out[f"media {kind} {i}"] = _post(http, stack.ingress_url, media_message(
            f"5736{tag:02d}{i:06d}", f"wamid.COVM{tag:02d}{i:06d}", kind, obj, secret))
    return out


def broker_edges(bootstrap: str) -> None:
    """A ReplyRequested delivered twice (the sender skips the second send) and a record nobody can decode on each
    consumer's input topic (dead-lettered), produced straight to the broker."""
    consumer = confluent_kafka.Consumer({"bootstrap.servers": bootstrap, "group.id": "bench-coverage",
                                         "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    producer = confluent_kafka.Producer({"bootstrap.servers": bootstrap})
    try:
        consumer.subscribe([OUTBOUND])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            msg = consumer.poll(1.0)
            if msg is not None and not msg.error():
                producer.produce(OUTBOUND, msg.value(), msg.key(), headers=msg.headers() or [])
                break
        for topic in POISONED:
            producer.produce(topic, b"{not an event", b"coverage-poison")
        producer.flush(30)
    finally:
        consumer.close()


def operator_round(http: httpx.Client, stack: BenchStack, secret: str, tag: int) -> int:
    """An operator takes a conversation over, the customer writes (relayed to the staff's numbers) and the
    operator releases it: the operator actions and relays panels."""
    base, auth = stack.ports.url("notifier"), {"Authorization": f"Bearer {stack.stack.env['WAPIPE_ADMIN_TOKEN']}"}
    wa_id = f"5737{tag:02d}000001"
    try:
        _post(http, stack.ingress_url, webhook(wa_id, f"wamid.COVO{tag:02d}1", "hola", secret))
        conv, deadline = None, time.monotonic() + 60
        while conv is None and time.monotonic() < deadline:
            time.sleep(1)
            r = http.post(f"{base}/handoffs/{conversation_key(PHONE_NUMBER_ID, wa_id)}", headers=auth,
                          json={"operator": "bench"})
            conv = r.json().get("ref") if r.status_code == 200 else None
        if conv is None:
            return 0
        _post(http, stack.ingress_url, webhook(wa_id, f"wamid.COVO{tag:02d}2", "¿me ayudan con una talla?", secret))
        time.sleep(3)
        return http.post(f"{base}/handoffs/{conv}/release", headers=auth, json={"operator": "bench"}).status_code
    except (httpx.HTTPError, ValueError, KeyError):
        return 0


def run_coverage(stack: BenchStack, secret: str, tag: int, quiet_s: float = 20.0, timeout_s: float = 180.0
                 ) -> dict[str, int]:
    """Post the edge traffic; returns ingress's HTTP statuses by kind (for the record, not checked)."""
    url, out = stack.ingress_url, {}
    sim_post(stack.sim_url, "/_sim/faults", {"kind": "5xx", "status": 503, "fraction": 0.2})
    sim_post(stack.sim_url, "/_sim/faults", {"kind": "code", "code": 130429, "fraction": 0.1})
    sim_post(stack.sim_url, "/_sim/faults", {"kind": "code", "code": 131047, "fraction": 0.1})
    sim_post(stack.sim_url, "/_sim/faults", {"kind": "code", "code": 131026, "fraction": 0.05})
    sim_post(stack.sim_url, "/_sim/llm", {"latency_s": 0, "fail_rate": 0.3})
    with httpx.Client(timeout=30) as http:
        for i in range(40):  # plain questions, consultations (some asked twice), handoffs and their relays
            wa_id = f"5731{tag:02d}{i:06d}"
            texts = ["¿tienen catálogo?", CONSULT_TEXT, CONSULT_TEXT, HANDOFF_TEXT][i % 4:][:1]
            out[f"message {i % 4}"] = _post(http, url, webhook(wa_id, f"wamid.COV{tag:02d}{i:06d}", texts[0],
                                                               secret))
            if i % 4 == 3:
                time.sleep(0.5)
                _post(http, url, webhook(wa_id, f"wamid.COVR{tag:02d}{i:06d}", "¿ya me atienden?", secret))
        flood = f"5732{tag:02d}000001"
        for i in range(30):  # one customer far above the flood limit
            _post(http, url, webhook(flood, f"wamid.COVF{tag:02d}{i:06d}", f"hola {i}", secret))
        dup = webhook(f"5733{tag:02d}000001", f"wamid.COVD{tag:02d}000001", "¿tienen catálogo?", secret)
        out["duplicate first"], out["duplicate again"] = _post(http, url, dup), _post(http, url, dup)
        raw, headers = webhook(f"5734{tag:02d}000001", f"wamid.COVS{tag:02d}000001", "hola", secret)
        out["bad signature"] = _post(http, url, (raw, {**headers, SIGNATURE_HEADER: "sha256=" + "0" * 64}))
        out["failed status"] = _post(http, url, status_failed(f"wamid.OUT{tag:02d}1", "573000000001", secret))
        out["unreadable part"] = _post(http, url, unreadable(f"5735{tag:02d}000001", f"wamid.COVU{tag:02d}1", secret))
        for sample in ("account_update", "calls_connect"):
            out[sample] = _post(http, url, signed(json.loads((SAMPLES / f"{sample}.json").read_text()), secret))
        for sample in ("smb_message_echoes",):  # the WhatsApp Business app writing to a customer
            out[sample] = _post(http, url, signed(json.loads((SAMPLES / f"{sample}.json").read_text()), secret))
        out.update(media_edges(http, stack, tag, secret))
        broker_edges(stack.stack.env["WAPIPE_KAFKA_BOOTSTRAP_SERVERS"])
        key = stack.stack.env["WAPIPE_API_CHAT_KEY"]
        for i in range(3):
            body = json.dumps({"conversation_id": f"cov-{tag}-{i}", "text": "¿tienen catálogo?"}).encode()
            out[f"api chat {i}"] = _post(http, f"{stack.ports.url('ingress')}/api/chat",
                                         (body, {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}))
        out["operator release"] = operator_round(http, stack, secret, tag)
    # Retries, fallbacks, relays and the notifier's alerts take their time: wait until the Graph API is quiet.
    wait_quiet(stack.sim_url, quiet_s, timeout_s)
    httpx.delete(stack.sim_url + "/_sim/faults", timeout=10)
    sim_post(stack.sim_url, "/_sim/llm", {"latency_s": 0})
    return out
