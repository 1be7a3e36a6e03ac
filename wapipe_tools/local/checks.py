"""The GO/NO-GO checklist, run against a live stack over its public endpoints (and its store and logs)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from schemas.envelope import api_user, conversation_key
from schemas.meta.signature import webhook_headers
from wapipe_tools.local.ports import LOCAL_PORTS

DEMO = "100000000000001"
OUTSIDE_LOGS = frozenset({"simulator", "broker", "redis"})
CONSUMERS = tuple((n, LOCAL_PORTS.health(n)) for n in ("guardrails", "ai", "sender", "notifier"))


class CheckFailed(AssertionError):
    pass


def expect(ok: bool, why: str) -> None:
    if not ok:
        raise CheckFailed(why)


@dataclass
class Target:
    url: str = LOCAL_PORTS.url("ingress")
    sim_url: str = LOCAL_PORTS.url("simulator")
    admin_url: str = LOCAL_PORTS.url("notifier")
    app_secret: str = "dev-app-secret-not-for-production"
    verify_token: str = "dev-verify-token"
    api_chat_key: str = "dev-api-chat-key"
    admin_token: str = "dev-admin-token"
    store_url: str | None = None
    logs: Path | None = None
    model_configured: bool = True


@dataclass
class Result:
    name: str
    ok: bool
    detail: str
    seconds: float


@dataclass
class Checklist:
    t: Target
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=15.0))
    conversations: list[str] = field(default_factory=list)  # /api/chat conversations that got an answer
    numbers: set[str] = field(default_factory=set)

    def _number(self) -> str:
        n = "5730" + str(uuid.uuid4().int)[:8]
        self.numbers.add(n)
        return n

    def _chat(self, text: str, conversation: str | None = None) -> dict[str, object]:
        conversation = conversation or self._number()
        r = self.http.post(f"{self.t.url}/api/chat", json={"conversation_id": conversation, "text": text},
                           headers={"Authorization": f"Bearer {self.t.api_chat_key}"})
        expect(r.status_code == 200, f"/api/chat answered {r.status_code} to {text!r}")
        doc: dict[str, object] = r.json()
        self.conversations.append(conversation)
        expect(bool(doc.get("reply")), f"no reply to {text!r}")
        return doc

    def _replies(self, wa_id: str) -> list[dict[str, object]]:
        msgs: list[dict[str, object]] = self.http.get(f"{self.t.sim_url}/_sim/messages",
                                                      params={"to": wa_id}).json()["messages"]
        return msgs

    def _inbound(self, wa_id: str, text: str) -> None:
        r = self.http.post(f"{self.t.sim_url}/_sim/inbound", json={"from": wa_id, "text": text})
        expect(r.status_code == 200 and r.json().get("ingress_status") == 200, f"inbound webhook not accepted: "
               f"{r.status_code} {r.text[:120]}")

    # --- the checks ---

    def health(self) -> str:
        down = []
        for name, url in [("ingress", f"{self.t.url}/readyz"), ("simulator", f"{self.t.sim_url}/healthz"),
                          *((n, f"http://127.0.0.1:{p}/readyz") for n, p in CONSUMERS)]:
            try:
                ok = self.http.get(url, timeout=3.0).status_code == 200
            except httpx.HTTPError:
                ok = False
            if not ok:
                down.append(name)
        expect(not down, f"not ready: {', '.join(down)}")
        return "ingress, simulator and 4 consumers ready"

    def verify_handshake(self) -> str:
        ok = self.http.get(f"{self.t.url}/webhook", params={"hub.mode": "subscribe", "hub.challenge": "4242",
                                                            "hub.verify_token": self.t.verify_token})
        echoed = ok.text.strip().strip('"')
        expect(ok.status_code == 200 and echoed == "4242", f"challenge not echoed: {ok.status_code}")
        bad = self.http.get(f"{self.t.url}/webhook", params={"hub.mode": "subscribe", "hub.challenge": "1",
                                                             "hub.verify_token": "wrong"})
        expect(bad.status_code == 403, f"wrong verify token answered {bad.status_code}")
        return "challenge echoed; wrong token 403"

    def signature_rejection(self) -> str:
        body = json.dumps({"object": "whatsapp_business_account", "entry": []}).encode()
        none = self.http.post(f"{self.t.url}/webhook", content=body, headers={"Content-Type": "application/json"})
        bad = self.http.post(f"{self.t.url}/webhook", content=body, headers=webhook_headers(body, "not-the-secret"))
        expect(none.status_code == 401, f"unsigned webhook answered {none.status_code}")
        expect(bad.status_code == 403, f"wrongly signed webhook answered {bad.status_code}")
        return "unsigned 401, wrong signature 403"

    def chat_greeting(self) -> str:
        doc = self._chat("hola")
        expect(doc.get("llm_called") is False, "greeting called the model")
        return f"route {doc.get('route')}, no model"

    def chat_non_business(self) -> str:
        doc = self._chat("¿quién ganó el partido de fútbol ayer?")
        expect(doc.get("llm_called") is False, "non-business question called the model")
        return f"route {doc.get('route')}, no model"

    def chat_faq(self) -> str:
        doc = self._chat("¿cuál es el horario de atención?")
        expect(doc.get("llm_called") is False, "FAQ called the model")
        return f"route {doc.get('route')}, llm_called=false"

    def chat_consult(self) -> str:
        if not self.t.model_configured:
            return "skipped: no model configured"
        doc = self._chat(f"¿me recomiendan unos tenis para correr en montaña? pregunta {uuid.uuid4().hex[:6]}")
        expect(doc.get("llm_called") is True, f"consult did not call the model (route {doc.get('route')})")
        return "llm_called=true"

    def rate_limit(self) -> str:
        conv = self._number()

        def one(_: int) -> int:
            try:
                return self.http.post(f"{self.t.url}/api/chat", json={"conversation_id": conv, "text": "hola"},
                                      headers={"Authorization": f"Bearer {self.t.api_chat_key}"},
                                      timeout=2.0).status_code
            except httpx.TimeoutException:
                return 0  # waiting for its reply; only the refusals matter here

        with ThreadPoolExecutor(16) as pool:
            codes = list(pool.map(one, range(34)))
        expect(429 in codes, "34 requests in a minute on one conversation never got 429")
        return f"{codes.count(429)} of 34 refused with 429"

    def shadow_silence(self) -> str:
        wa_id = self._number()
        conv = conversation_key(DEMO, wa_id)
        auth = {"Authorization": f"Bearer {self.t.admin_token}"}
        never = self.http.post(f"{self.t.admin_url}/handoffs/{conv}", json={"operator": "gonogo"}, headers=auth)
        expect(never.status_code == 404, f"take-over of a number that never wrote answered {never.status_code}")
        self._inbound(wa_id, "hola")  # only a conversation the customer started can be taken over
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not self._replies(wa_id):
            time.sleep(0.2)
        before = len([m for m in self._replies(wa_id) if m.get("kind") != "reaction"])
        expect(before > 0, "no answer to the customer's first message within 20 s")
        r = self.http.post(f"{self.t.admin_url}/handoffs/{conv}", json={"operator": "gonogo"}, headers=auth)
        expect(r.status_code == 200, f"operator take-over answered {r.status_code}")
        try:
            self._inbound(wa_id, "hola, ¿tienen envíos a Medellín?")
            time.sleep(4.0)
            sent = [m for m in self._replies(wa_id) if m.get("kind") != "reaction"][before:]
            expect(not sent, f"the bot wrote {len(sent)} message(s) while a person was handling the conversation")
        finally:
            self.http.post(f"{self.t.admin_url}/handoffs/{conv}/release", json={"operator": "gonogo"}, headers=auth)
        return "a number that never wrote refused; no bot message in 4 s while HUMAN_ACTIVE"

    def model_timeout_fallback(self) -> str:
        if not self.t.model_configured:
            return "skipped: no model configured"
        wa_id = self._number()
        self.http.post(f"{self.t.sim_url}/_sim/llm", json={"latency_s": 60.0})
        try:
            self._inbound(wa_id, f"¿qué tenis me recomiendan para trotar? consulta {uuid.uuid4().hex[:6]}")
            deadline = time.monotonic() + 40
            while time.monotonic() < deadline and not self._replies(wa_id):
                time.sleep(0.5)
            replies = self._replies(wa_id)
            expect(bool(replies), "no answer within 40 s while the model was slower than its timeout")
        finally:
            self.http.post(f"{self.t.sim_url}/_sim/llm", json={})
        return f"fallback answer sent: {str(replies[0].get('text'))[:40]!r}"

    def traces_written(self) -> str:
        expect(bool(self.t.store_url), "no store URL to check (run from the stack's folder or pass --store-url)")
        from wapipe.store import open_store

        async def count() -> int:
            store = open_store(str(self.t.store_url))
            try:
                found = 0
                for conv in self.conversations:
                    found += bool(await store.traces_by_conversation(DEMO, conversation_key(DEMO, api_user(conv))))
                return found
            finally:
                await store.close()

        deadline = time.monotonic() + 10
        found = 0
        while time.monotonic() < deadline:
            found = asyncio.run(count())
            if found >= len(self.conversations):
                break
            time.sleep(0.5)
        expect(bool(self.conversations), "no answered chat to look up")
        expect(found == len(self.conversations), f"{found} of {len(self.conversations)} conversations have a trace")
        return f"{found} traces found"

    def logs_masked(self) -> str:
        expect(self.t.logs is not None and self.t.logs.is_dir(), f"no log folder at {self.t.logs}")
        assert self.t.logs is not None
        # The simulator plays Meta (it must see numbers), broker and Redis log no payloads: check our services.
        ours = [p for p in sorted(self.t.logs.glob("*.log")) if p.stem not in OUTSIDE_LOGS]
        expect(bool(ours), f"no service logs in {self.t.logs}")
        leaks = [p.name for p in ours if any(n in p.read_text(errors="replace") for n in self.numbers)]
        expect(not leaks, f"full phone numbers in {', '.join(leaks)}")
        return f"{len(self.numbers)} test numbers never logged in full"

    def all(self) -> list[tuple[str, Callable[[], str]]]:
        return [("health", self.health), ("verify handshake", self.verify_handshake),
                ("signature rejection", self.signature_rejection), ("chat: greeting", self.chat_greeting),
                ("chat: non-business", self.chat_non_business), ("chat: FAQ without model", self.chat_faq),
                ("chat: consult with model", self.chat_consult), ("429 on rate limit", self.rate_limit),
                ("shadow mode silence", self.shadow_silence), ("model timeout fallback", self.model_timeout_fallback),
                ("traces written", self.traces_written), ("logs masked", self.logs_masked)]


def run(t: Target, on_result: Callable[[Result], None] = lambda r: None) -> list[Result]:
    """Every check in order; a failing check does not stop the others (health failing stops the rest)."""
    checks = Checklist(t)
    results: list[Result] = []
    try:
        for name, fn in checks.all():
            started = time.monotonic()
            try:
                res = Result(name, True, fn(), time.monotonic() - started)
            except (CheckFailed, httpx.HTTPError, KeyError, ValueError) as exc:
                res = Result(name, False, str(exc) or type(exc).__name__, time.monotonic() - started)
            results.append(res)
            on_result(res)
            if name == "health" and not res.ok:
                break
    finally:
        checks.http.close()
    return results
