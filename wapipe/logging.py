"""Logging: JSON in production, readable in dev, correlation id bound, phone numbers masked.

`mask_phone` is the single helper for putting a number in a log line. As a second line of defence, every
record's final text has long digit runs (phone numbers) masked to their last four digits.

Arguments of a record are what callers pass in, often what a customer or a client sent: each text argument is cut
to `MAX_VALUE_CHARS` (and the message to `MAX_MESSAGE_CHARS`) in both formats, and the text format escapes
control characters (newlines, CR, ANSI escapes), so one record is always one line and cannot forge another.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime

correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("correlation_id", default=None)

_DIGIT_RUN = re.compile(r"\+?\d{8,}")
# C0 and C1 controls (ESC starts ANSI sequences, U+009B is a one-character CSI) and the Unicode line separators.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
MAX_VALUE_CHARS = 1000
MAX_MESSAGE_CHARS = 8000


def mask_phone(number: str | None) -> str:
    """'+573001234567' -> '…4567'. Anything shorter than 5 characters is masked entirely."""
    if not number:
        return "…"
    digits = str(number)
    return "…" + digits[-4:] if len(digits) > 4 else "…"


def redact(text: str) -> str:
    return _DIGIT_RUN.sub(lambda m: mask_phone(m.group(0)), text)


def escape_control(text: str) -> str:
    """Control characters as visible backslash escapes (a newline becomes `\\n`, ESC `\\x1b`): one line, inert."""
    def visible(m: re.Match[str]) -> str:
        c = m.group(0)
        return _NAMED.get(c) or (f"\\x{ord(c):02x}" if ord(c) <= 0xFF else f"\\u{ord(c):04x}")

    return _CONTROL.sub(visible, text)


def truncate(text: str, limit: int = MAX_VALUE_CHARS) -> str:
    return text if len(text) <= limit else f"{text[:limit]}…[{len(text) - limit} more chars]"


def _bounded(value: object) -> object:
    """A text argument masked (before it is cut, so no number is cut below the mask's length) and cut."""
    if isinstance(value, str | bytes | bytearray | BaseException):
        return truncate(redact(str(value)))
    return value


def bounded_message(record: logging.LogRecord) -> str:
    """`record.getMessage()` with every text argument masked and cut, and the whole cut to MAX_MESSAGE_CHARS."""
    args = record.args
    if isinstance(args, Mapping):
        args = {k: _bounded(v) for k, v in args.items()}
    elif args:
        args = tuple(_bounded(a) for a in args)
    copy = logging.makeLogRecord(record.__dict__)
    copy.args = args
    return truncate(redact(copy.getMessage()), MAX_MESSAGE_CHARS)


@contextmanager
def bound_correlation(cid: str | None) -> Iterator[None]:
    token = correlation_id.set(cid)
    try:
        yield
    finally:
        correlation_id.reset(token)


class _ContextFilter(logging.Filter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        record.correlation_id = correlation_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": getattr(record, "service", None),
            "logger": record.name,
            "msg": bounded_message(record),  # json.dumps escapes the control characters
            "correlation_id": getattr(record, "correlation_id", None),
        }
        if record.exc_info:
            doc["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(doc, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """One line per record; a traceback follows on lines indented by two spaces, so no line it adds can pass for
    the start of another record."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-5s %(service)s %(name)s [%(correlation_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        clean = logging.makeLogRecord(record.__dict__)
        clean.msg, clean.args = escape_control(bounded_message(record)), None
        cid = getattr(record, "correlation_id", None)
        clean.correlation_id = None if cid is None else escape_control(truncate(str(cid)))
        first, newline, rest = super().format(clean).partition("\n")
        if newline:
            first += "".join("\n  " + escape_control(line) for line in rest.split("\n"))
        return redact(first)


def configure_logging(service: str, *, production: bool = False, level: str = "INFO", fmt: str = "auto") -> None:
    """Install one stderr handler on the root logger (idempotent)."""
    use_json = fmt == "json" or (fmt == "auto" and production)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if use_json else TextFormatter())
    handler.addFilter(_ContextFilter(service))
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_wapipe", False):
            root.removeHandler(old)
    handler._wapipe = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "cassandra", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
