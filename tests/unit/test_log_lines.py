"""What callers pass to a log record cannot forge lines or flood them: escaped in text, cut in both formats."""

from __future__ import annotations

import io
import json
import logging
import re
import sys

import httpx
from prometheus_client import CollectorRegistry

from services.ingress.app import create_app
from services.ingress.config import IngressSettings
from wapipe.logging import MAX_VALUE_CHARS, JsonFormatter, TextFormatter

FORGED = "subscribe\n2026-11-21 12:00:00,000 INFO  ingress services.ingress.webhook [None] verification accepted"


def _record(msg: str, *args: object, exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ValueError("bad input\r\nforged: ERROR")
        except ValueError:
            exc_info = sys.exc_info()
    record = logging.LogRecord("wapipe.test", logging.WARNING, __file__, 1, msg, args, exc_info)
    record.service, record.correlation_id = "ingress", None
    return record


def test_newlines_in_an_argument_render_on_one_line_in_text() -> None:
    line = TextFormatter().format(_record("webhook verification refused (mode=%s)", FORGED))
    assert "\n" not in line
    assert line.endswith("(mode=subscribe\\n2026-11-21 12:00:00,000 INFO  ingress services.ingress.webhook [None] "
                         "verification accepted)")


def test_carriage_returns_ansi_and_unicode_separators_are_escaped() -> None:
    line = TextFormatter().format(_record("text %s", "a\rb\x1b[2J\x9bc\u2028d\x00"))
    assert line.endswith("text a\\rb\\x1b[2J\\x9bc\\u2028d\\x00")
    assert not re.search(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", line)


def test_a_correlation_id_cannot_break_the_line_either() -> None:
    record = _record("ok")
    record.correlation_id = "wamid.X\nforged"
    assert "\n" not in TextFormatter().format(record)


def test_a_traceback_follows_indented_so_none_of_its_lines_starts_a_record() -> None:
    lines = TextFormatter().format(_record("send failed for %s", "x", exc=True)).split("\n")
    assert lines[0].endswith("send failed for x") and len(lines) > 2
    assert all(ln.startswith("  ") for ln in lines[1:])
    # The exception's own newline starts a continuation line, never a record of its own.
    assert lines[-2:] == ["  ValueError: bad input\\r", "  forged: ERROR"]


def test_long_values_are_cut_in_both_formats_and_numbers_still_masked() -> None:
    value = "A" * (MAX_VALUE_CHARS - 10) + "573001234567" + "B" * 5000  # the number straddles the cut
    text = TextFormatter().format(_record("customer wrote %s", value))
    doc = json.loads(JsonFormatter().format(_record("customer wrote %s", value)))
    for out in (text, doc["msg"]):
        assert "…4567" in out and "57300" not in out
        assert "B" * 100 not in out and out.endswith(" more chars]")
        assert len(out) < MAX_VALUE_CHARS + 200
    assert doc["msg"].startswith("customer wrote AAAA")


def test_short_values_and_numbers_pass_unchanged() -> None:
    assert TextFormatter().format(_record("%d events, %s", 3, "ok")).endswith("3 events, ok")
    assert json.loads(JsonFormatter().format(_record("%(n)d events", {"n": 3})))["msg"] == "3 events"


class _Ready:
    async def ready(self) -> bool:
        return True


def _as_ingress(record: logging.LogRecord) -> bool:
    record.service, record.correlation_id = "ingress", None
    return True


async def test_a_forged_verification_query_is_one_log_line() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(TextFormatter())
    handler.addFilter(_as_ingress)
    logger = logging.getLogger("services.ingress.webhook")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        app = create_app(IngressSettings(_env_file=None), registry=CollectorRegistry(), probe=_Ready())  # type: ignore[call-arg]
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ingress") as client:
            r = await client.get("/webhook?hub.mode=x%0A2026-11-21%20INFO%20forged&hub.challenge=1")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert r.status_code == 403
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].endswith("webhook verification refused (mode=x\\n2026-11-21 INFO forged)")
