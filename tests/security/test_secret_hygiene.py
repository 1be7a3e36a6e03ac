"""Secret hygiene: representative paths run with sentinel secrets and phone numbers, every log line captured at
DEBUG (ours and the libraries'), formatted the way production formats them, then scanned."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from schemas.meta.signature import sign
from services.ai.config import AISettings
from services.ai.providers.openai_compat import OpenAIProvider
from services.ingress.app import create_app
from services.ingress.config import IngressSettings
from services.notifier.app import build_app
from services.notifier.config import NotifierSettings
from services.sender.config import SenderSettings
from tests.integration.ai.conftest import Wired, set_llm, wire  # noqa: F401  (fixtures)
from tests.security.conftest import meta_bytes, sample_doc
from tests.unit.ai.fixtures import request
from wapipe.access import hash_token
from wapipe.logging import JsonFormatter, TextFormatter, mask_phone
from wapipe.runtime.producer import Producer
from wapipe.runtime.types import RecordMeta
from wapipe.state.window import ServiceWindow
from wapipe.store import OperatorToken, open_store
from wapipe.tenants import TenantRegistry
from wapipe_tools.simulator.serve import BackgroundSimulator
from wapipe_tools.simulator.state import SimState

SECRETS = {
    "meta_app_secret": "SNTL-app-secret-4c1d9e7f2a",
    "meta_verify_token": "SNTL-verify-token-8b3e6d",
    "meta_access_token": "SNTL-access-token-EAAG5f0c",
    "api_chat_key": "SNTL-chat-key-1a2b3c4d5e",
    "openai_api_key": "sk-SNTL-openai-key-9f8e7d6c5b4a",
    "admin_token": "SNTL-admin-token-7e6d5c4b3a",
    "redis_password": "SNTL-redis-password-3f2e1d",
    "operator_token": "wapipe_op_SNTL-operator-token-5d4c3b2a1f0e9d8c7b6a",  # a scoped operator API token
}
PHONE = "573158675309"  # the customer
OTHER_PHONE = "573204448811"  # a number the customer types in a message
PHONE_FORMS = (PHONE, PHONE[2:], OTHER_PHONE, OTHER_PHONE[2:])
# This suite's own HTTP client plays Meta and the operator; its request lines (httpx INFO) are not service logs.
TEST_CLIENT = "hygiene-test-client"
TENANT = "100000000000001"
TENANTS = Path(__file__).resolve().parents[2] / "config" / "tenants"
META = RecordMeta(topic="wa.ai.requests.v1", partition=0, offset=0, key=None, timestamp_ms=None)


class Capture(logging.Handler):
    """Keeps every record's raw message and its production (JSON) and dev (text) renderings."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.raw: list[str] = []
        self.lines: list[str] = []
        self._json, self._text = JsonFormatter(), TextFormatter()

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == "httpx" and f"://{TEST_CLIENT}-" in record.getMessage():
            return
        record.service, record.correlation_id = "test", None
        self.raw.append(record.getMessage())
        self.lines += [self._json.format(record), self._text.format(record)]


@pytest.fixture
def captured() -> Iterator[Capture]:
    root = logging.getLogger()
    cap, level = Capture(), root.level
    quiet = {name: logging.getLogger(name).level for name in ("httpx", "httpcore", "openai", "aiosqlite")}
    root.addHandler(cap)
    root.setLevel(logging.DEBUG)
    for name in quiet:  # configure_logging silences some of these; here everything speaks
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield cap
    finally:
        root.removeHandler(cap)
        root.setLevel(level)
        for name, lvl in quiet.items():
            logging.getLogger(name).setLevel(lvl)


@pytest.fixture(scope="module")
def sim() -> Iterator[BackgroundSimulator]:  # overrides the AI fixtures' simulator: it wants the sentinel key
    with BackgroundSimulator(SimState(ingress_url=None, status_webhooks=False,
                                      llm_api_key=SECRETS["openai_api_key"])) as s:
        yield s


def _customer_message() -> bytes:
    doc = sample_doc("message_text")
    value = doc["entry"][0]["changes"][0]["value"]
    value["contacts"][0]["wa_id"] = PHONE
    value["messages"][0].update({"from": PHONE, "text": {"body": f"hola, mi otro número es {OTHER_PHONE}"}})
    return meta_bytes(doc)


def _status(status: str = "failed") -> bytes:
    doc = sample_doc("status_failed")
    for st in doc["entry"][0]["changes"][0]["value"]["statuses"]:
        st.update({"recipient_id": PHONE, "status": status})
        st.pop("recipient_user_id", None)  # so the wa_id (the phone number) is the user
    return meta_bytes(doc)


async def _ingress_paths(bootstrap: str, prefix: str, redis_client: Any) -> None:
    secrets: dict[str, Any] = {k: v for k, v in SECRETS.items() if k in IngressSettings.model_fields}
    s = IngressSettings(_env_file=None, kafka_bootstrap_servers=bootstrap, topic_prefix=prefix,
                        api_chat_wait_s=0.2, **secrets)
    producer = Producer(bootstrap, topic_prefix=prefix, delivery_timeout_s=5)
    app = create_app(s, producer=producer, redis=redis_client, registry=CollectorRegistry())
    secret, key = SECRETS["meta_app_secret"], SECRETS["api_chat_key"]
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url=f"http://{TEST_CLIENT}-ingress") as c:
            # an unknown status is skipped with a warning that names the (masked) recipient
            for body in (_customer_message(), _status(), _status("teleported")):
                assert (await c.post("/webhook", content=body, headers={"X-Hub-Signature-256": sign(body, secret)}))\
                    .status_code == 200
            body = _customer_message()
            wrong = await c.post("/webhook", content=body, headers={"X-Hub-Signature-256": sign(body, "x" + secret)})
            verify = await c.get("/webhook", params={"hub.mode": "subscribe", "hub.challenge": "7",
                                                     "hub.verify_token": SECRETS["meta_verify_token"]})
            refused = await c.get("/webhook", params={"hub.mode": "subscribe", "hub.challenge": "7",
                                                      "hub.verify_token": SECRETS["meta_verify_token"] + "x"})
            chat = await c.post("/api/chat", json={"conversation_id": PHONE, "text": f"llámame al {OTHER_PHONE}"},
                                headers={"Authorization": f"Bearer {key}"})
            bad_key = await c.post("/api/chat", json={"conversation_id": PHONE, "text": "hola"},
                                   headers={"Authorization": f"Bearer {key[:-1]}"})
        assert (wrong.status_code, verify.status_code, refused.status_code) == (403, 200, 403)
        assert (chat.status_code, bad_key.status_code) == (202, 401)
    finally:
        producer.close(2)


async def _notifier_paths(bootstrap: str, prefix: str, redis_client: Any, tmp: Path) -> None:
    token = SECRETS["admin_token"]
    s = NotifierSettings(_env_file=None, kafka_bootstrap_servers=bootstrap, topic_prefix=prefix,
                         admin_token=SecretStr(token), tenants_dir=str(TENANTS))
    store = open_store(f"sqlite:///{tmp}/hygiene.db")
    await store.migrate()
    producer = Producer(bootstrap, topic_prefix=prefix, delivery_timeout_s=5)
    app = build_app(s, redis=redis_client, store=store, producer=producer, tenants=TenantRegistry(TENANTS),
                    registry=CollectorRegistry())
    conv, auth = f"{TENANT}:{PHONE}", {"Authorization": f"Bearer {token}"}
    await ServiceWindow(redis_client).touch(conv, datetime.now(UTC))  # the customer wrote: it can be taken over
    scoped = SECRETS["operator_token"]
    digest = hash_token(scoped)
    await store.add_operator_token(OperatorToken(digest[:12], digest, "ana", frozenset({TENANT}), datetime.now(UTC)))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app.api),
                                     base_url=f"http://{TEST_CLIENT}-operator") as c:
            assert (await c.post(f"/handoffs/{conv}", headers=auth, json={"operator": "ana"})).status_code == 200
            assert (await c.get("/handoffs", headers=auth)).status_code == 200
            as_ana = {"Authorization": f"Bearer {scoped}"}
            assert (await c.post(f"/handoffs/{conv}", headers=as_ana)).status_code == 200
            assert (await c.get("/handoffs", headers=as_ana)).status_code == 200
            assert (await c.get("/handoffs", headers={"Authorization": f"Bearer {scoped}0"})).status_code == 401
            r = await c.post(f"/handoffs/{conv}/reply", headers=auth, json={"text": f"te llamo al {OTHER_PHONE}"})
            assert r.status_code == 202
            assert (await c.post(f"/handoffs/{conv}/release", headers=auth)).status_code == 200
            assert (await c.post(f"/handoffs/{conv}/release", headers=auth)).status_code == 409
            assert (await c.get("/handoffs", headers={"Authorization": f"Bearer {token}0"})).status_code == 401
    finally:
        await app.dlq.close()
        producer.close(2)
        await store.close()


async def test_no_secret_or_full_phone_number_reaches_any_log_line(
        captured: Capture, kafka_bootstrap: str, topic_prefix: str, redis_client: Any, tmp_path: Path,
        sim: BackgroundSimulator, wire: Callable[..., Wired], set_llm: Callable[..., None]) -> None:  # noqa: F811
    await _ingress_paths(kafka_bootstrap, topic_prefix, redis_client)
    provider = OpenAIProvider(base_url=f"{sim.url}/v1", api_key=SECRETS["openai_api_key"],
                              default_model="gpt-4o-mini", timeout_s=5)
    w = wire(providers=[provider])
    answered = await w.handler(request(f"¿hacen envíos? mi número es {OTHER_PHONE}", user=PHONE), META)
    assert answered[0].event.trace.llm_called  # the sentinel key was really sent to the model
    bad_key = OpenAIProvider(base_url=f"{sim.url}/v1", api_key=SECRETS["openai_api_key"] + "-revoked",
                             default_model="gpt-4o-mini", timeout_s=5)
    refused = await wire(providers=[bad_key]).handler(request("¿cuánto cuesta el envío?", user=PHONE), META)
    assert refused[0].event.trace.route == "ai_fallback"  # the provider answered 401 and we fell back
    await _notifier_paths(kafka_bootstrap, topic_prefix, redis_client, tmp_path)

    assert len(captured.raw) > 30 and any('"level": "DEBUG"' in line for line in captured.lines)
    for line in captured.lines + captured.raw:
        for name, value in SECRETS.items():
            assert value not in line, f"{name} in a log line: {line[:300]}"
    for line in captured.lines:
        for phone in PHONE_FORMS:
            assert phone not in line, f"unmasked phone number in a log line: {line[:300]}"
    masked = [line for line in captured.lines if mask_phone(PHONE) in line or mask_phone(OTHER_PHONE) in line]
    assert masked, "no line carried a (masked) number: the scan proved nothing"


def test_access_logs_with_query_strings_and_paths_stay_off() -> None:
    # The verify token travels in GET /webhook's query string and phone numbers in operator URLs: uvicorn's access
    # log would print both, so configure_logging keeps it at WARNING even when everything else is at DEBUG.
    from wapipe.logging import configure_logging

    root, access = logging.getLogger(), logging.getLogger("uvicorn.access")
    saved = (root.level, list(root.handlers), access.level)
    try:
        configure_logging("ingress", level="DEBUG", fmt="json")
        assert not access.isEnabledFor(logging.INFO)
    finally:
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]
        access.setLevel(saved[2])


SECRET_SETTINGS = [(IngressSettings, ("meta_app_secret", "meta_verify_token", "api_chat_key", "redis_password")),
                   (SenderSettings, ("meta_access_token",)), (AISettings, ("openai_api_key",)),
                   (NotifierSettings, ("admin_token",))]


@pytest.mark.parametrize(("cls", "fields"), SECRET_SETTINGS)
def test_settings_never_show_their_secrets(cls: Any, fields: tuple[str, ...]) -> None:
    s = cls(_env_file=None, **{f: SECRETS[f] for f in fields})
    shown = [repr(s), str(s), s.model_dump_json(), json.dumps(s.model_dump(mode="json")), f"{s!r} {s}"]
    for text in shown:
        for f in fields:
            assert SECRETS[f] not in text
    assert all(getattr(s, f).get_secret_value() == SECRETS[f] for f in fields)  # still usable by the code


def _record(msg: str, *args: Any, exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ValueError(f"could not send to {PHONE}")
        except ValueError:
            import sys

            exc_info = sys.exc_info()
    rec = logging.LogRecord("wapipe.test", logging.WARNING, __file__, 1, msg, args, exc_info)
    rec.service, rec.correlation_id = "test", "wamid.X"
    return rec


@pytest.mark.parametrize("formatter", [JsonFormatter(), TextFormatter()], ids=["json", "text"])
@pytest.mark.parametrize("record", [
    _record("sending to %s", PHONE), _record(f"sending to +{PHONE}"), _record("to %s and %s", PHONE, OTHER_PHONE),
    _record("send failed", exc=True), _record("conversation %s", f"{TENANT}:{PHONE}"),
], ids=["arg", "plus", "two", "exception", "conversation-key"])
def test_log_formats_mask_phone_numbers(formatter: logging.Formatter, record: logging.LogRecord) -> None:
    line = formatter.format(record)
    if isinstance(formatter, JsonFormatter):
        line = json.dumps(json.loads(line), ensure_ascii=False)  # still one valid JSON document
    assert not re.search(r"\d{8,}", line.split(" wapipe.test ")[-1] if " wapipe.test " in line else line)
    assert "…5309" in line or "…8811" in line
