"""The whole stack as a user runs it (`wapipe up`): webhook to reply, GO/NO-GO, sandbox replay, DLQ requeue."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from confluent_kafka import Producer

from schemas import events as ev
from schemas.envelope import Trace, conversation_key, derive_id, utcnow
from schemas.events import encode_event
from tests.e2e.conftest import SANDBOX, LocalStack
from wapipe_tools.local.ports import LOCAL_PORTS, listening_addresses
from wapipe_tools.local.ready import NotReady, http_ok, wait_until

pytestmark = pytest.mark.e2e

SIM = LOCAL_PORTS.url("simulator")
TENANT = "100000000000001"


def number() -> str:
    return "5731" + str(uuid.uuid4().int)[:8]


def replies(wa_id: str) -> list[dict[str, object]]:
    msgs: list[dict[str, object]] = httpx.get(f"{SIM}/_sim/messages", params={"to": wa_id}).json()["messages"]
    return msgs


def wait_reply(wa_id: str, timeout: float = 60.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        texts = [m for m in replies(wa_id) if m.get("text")]
        if texts:
            return texts[0]
        time.sleep(0.2)
    raise AssertionError(f"no reply to {wa_id} within {timeout:.0f}s")


def graph_calls() -> int:
    doc = httpx.get(f"{SIM}/_sim/messages").json()
    return len(doc["messages"]) + len(doc["reads"])


def test_every_listener_of_the_stack_is_on_loopback(stack: LocalStack) -> None:
    """The dev secrets are public, so nothing the local stack serves may be reachable from another machine."""
    services = stack.info["services"]
    assert isinstance(services, dict) and {"simulator", "ingress", "notifier"} <= set(services)
    for name, doc in services.items():
        addresses = listening_addresses(int(doc["pid"]))
        assert set(doc["ports"]) <= {port for _, port in addresses}, (name, addresses)
        assert {host for host, _ in addresses} == {"127.0.0.1"}, (name, addresses)


def test_signed_webhook_gets_the_shops_hours_back(stack: LocalStack) -> None:
    wa_id = number()
    r = httpx.post(f"{SIM}/_sim/inbound", json={"from": wa_id, "text": "¿a qué hora abren?"})
    assert r.status_code == 200 and r.json()["ingress_status"] == 200
    reply = wait_reply(wa_id)
    assert "09:00" in str(reply["text"]), reply


def test_the_stack_holds_the_demo_catalog(stack: LocalStack) -> None:
    url = f"sqlite:///{stack.state / 'wapipe.db'}"
    shown = stack.wapipe("catalog", "show", "--tenant", "demo", "--url", url)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert json.loads(shown.stdout)["groups"] >= 150
    found = stack.wapipe("catalog", "search", "--tenant", "demo", "--url", url, "air max 90 blancos en 40")
    assert found.returncode == 0 and json.loads(found.stdout)[0]["id"] == "AM90-BLA-40", found.stdout + found.stderr


def test_go_no_go_is_go_on_a_healthy_stack(stack: LocalStack) -> None:
    run = stack.wapipe("go-no-go", "--state-dir", str(stack.state))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "│ NO-GO" not in run.stdout and run.stdout.rstrip().splitlines()[-1] == "GO"


def test_replay_into_a_sandbox_decides_again_without_calling_the_graph_api(stack: LocalStack) -> None:
    since = datetime.now(UTC) - timedelta(seconds=1)
    numbers = [number() for _ in range(3)]
    for wa_id, text in zip(numbers, ("hola", "¿hacen envíos a Cali?", "¿cuál es el horario?"), strict=True):
        httpx.post(f"{SIM}/_sim/inbound", json={"from": wa_id, "text": text}).raise_for_status()
    for wa_id in numbers:
        wait_reply(wa_id)
    until = datetime.now(UTC) + timedelta(seconds=1)
    before = graph_calls()

    run = stack.wapipe("replay", "--topic", "wa.inbound.v1", "--since", since.isoformat(), "--until",
                       until.isoformat(), "--sandbox", SANDBOX)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "selected" in run.stdout and "3" in run.stdout

    diffs: list[subprocess.CompletedProcess[str]] = []

    def compared() -> bool:
        diffs.append(stack.wapipe("replay", "diff", "--sandbox", SANDBOX, "--state-dir", str(stack.state)))
        return "compared 3: 3 unchanged, 0 changed" in diffs[-1].stdout

    try:
        wait_until(compared, timeout=120, what="the sandbox to decide all three again", interval=1.0)
    except NotReady:
        pass
    assert "compared 3: 3 unchanged, 0 changed" in diffs[-1].stdout, diffs[-1].stdout + diffs[-1].stderr
    time.sleep(1.0)
    assert graph_calls() == before  # the sandbox's sender recorded, it did not send


def test_a_requeued_dlq_record_is_processed(stack: LocalStack) -> None:
    wa_id, wamid, now = number(), f"wamid.e2e{uuid.uuid4().hex}", utcnow()
    httpx.post(f"{SIM}/_sim/window", json={"to": wa_id}).raise_for_status()
    event = ev.MessageReceived(
        event_id=derive_id("in", wamid), occurred_at=now, tenant=TENANT, conversation=conversation_key(TENANT, wa_id),
        correlation_id=wamid, trace=Trace(received_at=now, message_type="text"),
        payload=ev.MessageReceivedPayload(message_id=wamid, sender=ev.Recipient(wa_id=wa_id), profile_name="Ana",
                                          timestamp=now, message_type="text", text="hola", raw={"type": "text"}))
    key = conversation_key(TENANT, wa_id)
    p = Producer({"bootstrap.servers": f"127.0.0.1:{LOCAL_PORTS.broker}", "log_level": 3})
    p.produce("wa.inbound.v1.dlq", value=encode_event(event), key=key, headers=[
        ("type", b"MessageReceived"), ("dlq.error.class", b"RedisError"), ("dlq.attempts", b"5"),
        ("dlq.original.topic", b"wa.inbound.v1"), ("dlq.service", b"guardrails")])
    assert p.flush(30) == 0
    del p  # the handle goes with its last reference, long before the stack's broker stops

    shown = stack.wapipe("dlq", "show", "wa.inbound.v1.dlq")
    assert "RedisError" in shown.stdout and key in shown.stdout
    run = stack.wapipe("dlq", "requeue", "wa.inbound.v1.dlq", "--conversation", key)
    assert run.returncode == 0 and "requeued 1 record(s) to wa.inbound.v1" in run.stdout, run.stdout + run.stderr
    assert "Hola" in str(wait_reply(wa_id)["text"])


def test_go_no_go_names_a_stopped_service(stack: LocalStack) -> None:
    # Last in the module: it leaves the stack without guardrails.
    pid = stack.pid("guardrails")
    os.kill(pid, signal.SIGTERM)
    guardrails = f"http://127.0.0.1:{LOCAL_PORTS.guardrails_health}/healthz"
    wait_until(lambda: not http_ok(guardrails), timeout=60, what="guardrails to stop answering")
    run = stack.wapipe("go-no-go", "--state-dir", str(stack.state))
    assert run.returncode == 1, run.stdout
    assert "NO-GO: health" in run.stdout and "not ready: guardrails" in run.stdout
