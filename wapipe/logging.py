"""Logging: JSON in production, readable in dev, correlation id bound, phone numbers masked.

`mask_phone` is the single helper for putting a number in a log line. As a second line of defence, every
record's final text has long digit runs (phone numbers) masked to their last four digits.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("correlation_id", default=None)

_DIGIT_RUN = re.compile(r"\+?\d{8,}")


def mask_phone(number: str | None) -> str:
    """'+573001234567' -> '…4567'. Anything shorter than 5 characters is masked entirely."""
    if not number:
        return "…"
    digits = str(number)
    return "…" + digits[-4:] if len(digits) > 4 else "…"


def redact(text: str) -> str:
    return _DIGIT_RUN.sub(lambda m: mask_phone(m.group(0)), text)


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
            "msg": redact(record.getMessage()),
            "correlation_id": getattr(record, "correlation_id", None),
        }
        if record.exc_info:
            doc["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(doc, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-5s %(service)s %(name)s [%(correlation_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


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
