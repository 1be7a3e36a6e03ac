"""Pure pieces of the CLI: time parsing, decision diff, sandbox names, metrics reading, the stack's environment."""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wapipe.store.port import TraceRecord
from wapipe_tools.cli.main import app
from wapipe_tools.cli.replay import parse_time
from wapipe_tools.local.metrics import parse
from wapipe_tools.local.servers import free_port_base
from wapipe_tools.local.stack import ServiceSpec, stack_env
from wapipe_tools.replay import sandbox
from wapipe_tools.replay.diff import compare

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def trace(cid: str, route: str = "reply", intent: str = "horarios", path: tuple[str, ...] = ("route:reply",),
          minute: int = 0) -> TraceRecord:
    return TraceRecord(tenant="1", conversation="1:u", correlation_id=cid, ts=NOW.replace(minute=minute),
                       outcome="replied", route=route, message_type="BUSINESS_FAQ", intent=intent,
                       decision_path=path)


def test_parse_time_accepts_iso_and_ages() -> None:
    assert parse_time("2026-05-01T12:00:00Z") == int(NOW.timestamp() * 1000)
    assert parse_time("2026-05-01T12:00:00") == int(NOW.timestamp() * 1000)  # naive means UTC
    assert parse_time("90m", now=NOW) == int(NOW.timestamp() * 1000) - 90 * 60_000
    with pytest.raises(ValueError, match="invalid time"):
        parse_time("last tuesday")


def test_diff_reports_changed_fields_and_ignores_unchanged() -> None:
    originals = [trace("a"), trace("b"), trace("c", route="ai", minute=0), trace("c", route="reply", minute=5)]
    replayed = [trace("a"), trace("b", route="ai", intent="otro", path=("route:ai",)), trace("c"), trace("new")]
    report = compare(originals, replayed)
    assert (report.compared, report.unchanged, report.changed, report.without_original) == (3, 2, 1, 1)
    assert {(c.correlation_id, c.field, c.before, c.after) for c in report.changes} == {
        ("b", "route", "reply", "ai"), ("b", "intent", "horarios", "otro"),
        ("b", "decision_path", "route:reply", "route:ai")}


def test_sandbox_targets_are_prefixed_registry_topics() -> None:
    assert sandbox.target("rules-v2", "wa.inbound.v1") == "sandbox.rules-v2.wa.inbound.v1"
    assert sandbox.target("x", "t123.wa.ai.requests.v1.dlq") == "sandbox.x.wa.ai.requests.v1.dlq"
    with pytest.raises(ValueError, match="not a pipeline topic"):
        sandbox.target("x", "orders.v1")
    with pytest.raises(ValueError, match="invalid sandbox name"):
        sandbox.prefix("Has Spaces")


def test_sandbox_services_record_instead_of_sending_and_keep_their_own_state(tmp_path: Path) -> None:
    specs = sandbox.sandbox_specs("s1", 0, tmp_path, 16379)
    assert [s.name for s in specs] == ["media@s1", "guardrails@s1", "ai@s1", "sender@s1"]
    for s in specs:
        env = dict(s.env)
        assert env["WAPIPE_SENDER_DRY_RUN"] == "true" and env["WAPIPE_TOPIC_PREFIX"] == "sandbox.s1."
        assert env["WAPIPE_REDIS_URL"].endswith("/1") and "sandbox-s1.db" in env["WAPIPE_STORE_URL"]
        service = s.name.removesuffix("@s1")  # its own group, under the service's own setting name
        assert env[f"WAPIPE_{service.upper()}_CONSUMER_GROUP"] == f"wapipe-sandbox-s1-{service}"


def test_metrics_text_becomes_messages_and_errors() -> None:
    text = "\n".join([
        'wapipe_records_total{service="ai",topic="t",outcome="ok"} 7.0',
        'wapipe_records_total{service="ai",topic="t",outcome="dlq"} 1.0',
        'wapipe_handler_retries_total{service="ai",topic="t"} 3.0',
        'wapipe_dlq_records_total{service="ai",topic="t",error="X"} 1.0',
        "wapipe_in_flight_records 4.0", ""])
    counts = parse(text)
    assert (counts.messages, counts.errors) == (8.0, 4.0)


def test_stack_env_is_explicit_with_the_stacks_addresses(tmp_path: Path) -> None:
    env = stack_env(tmp_path, base={"PATH": "/bin", "AWS_SECRET_ACCESS_KEY": "nope",
                                    "WAPIPE_LOG_LEVEL": "DEBUG", "WAPIPE_KAFKA_BOOTSTRAP_SERVERS": "elsewhere:9092"})
    assert "AWS_SECRET_ACCESS_KEY" not in env and env["PATH"] == "/bin"
    assert env["WAPIPE_LOG_LEVEL"] == "DEBUG"  # the caller's WAPIPE_* win over dev values...
    assert env["WAPIPE_KAFKA_BOOTSTRAP_SERVERS"] == "127.0.0.1:19092"  # ...but not over the stack's own addresses
    assert env["WAPIPE_STORE_URL"] == f"sqlite:///{tmp_path.resolve() / 'wapipe.db'}"
    assert env["WAPIPE_META_APP_SECRET"] == "dev-app-secret-not-for-production"


def test_up_refuses_a_taken_port_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        monkeypatch.setattr("wapipe_tools.cli.up.local_specs",
                            lambda ports: [ServiceSpec("ingress", ("true",), (port,), "http://127.0.0.1:1/readyz")])
        # broker and Redis on a private free range, so a stack running on the default ports is not named first
        result = CliRunner().invoke(app, ["up", "--no-live", "--state-dir", str(tmp_path),
                                          "--port-base", str(free_port_base())])
    assert result.exit_code == 2
    assert f"port {port} is already in use by" in result.output
    assert f"(pid {os.getpid()})" in result.output  # this very process holds it
    assert result.output.count("\n") <= 2
