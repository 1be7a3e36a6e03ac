"""The coverage phase: after the measured phases, the traffic that the FAQ and AI load never makes, so the
dashboards' error and edge panels have something to draw when Prometheus is asked at the end. Not measured.

Graph API faults (503, 130429 retried; 131047 window closed; 131026 undeliverable), a model that fails (the AI's
fallback) and repeats (the answer cache), a handoff trigger and a message relayed while a person has the
conversation, a flood from one customer, a webhook delivered twice, one badly signed, a failed-delivery status,
and /api/chat requests.
"""

from __future__ import annotations

import json
import time

import httpx

from bench.common.stack import BenchStack, sim_messages, sim_post
from bench.common.webhooks import PHONE_NUMBER_ID, webhook
from schemas.meta.signature import SIGNATURE_HEADER, webhook_headers

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
        key = stack.stack.env["WAPIPE_API_CHAT_KEY"]
        for i in range(3):
            body = json.dumps({"conversation_id": f"cov-{tag}-{i}", "text": "¿tienen catálogo?"}).encode()
            out[f"api chat {i}"] = _post(http, f"{stack.ports.url('ingress')}/api/chat",
                                         (body, {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}))
    # Retries, fallbacks, relays and the notifier's alerts take their time: wait until the Graph API is quiet.
    deadline, last, changed = time.monotonic() + timeout_s, -1, time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - changed < quiet_s:
        n = len(sim_messages(stack.sim_url))
        if n != last:
            last, changed = n, time.monotonic()
        time.sleep(2)
    httpx.delete(stack.sim_url + "/_sim/faults", timeout=10)
    sim_post(stack.sim_url, "/_sim/llm", {"latency_s": 0})
    return out
