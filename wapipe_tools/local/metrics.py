"""Read a service's Prometheus text endpoint down to two numbers: messages handled and errors."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families

# What counts as "a message" for each kind of service: runtime records (consumers), webhooks and /api/chat (ingress).
MESSAGE_SAMPLES = frozenset({"wapipe_records_total", "wapipe_webhook_requests_total",
                             "wapipe_api_chat_requests_total"})
ERROR_SAMPLES = frozenset({"wapipe_dlq_records_total", "wapipe_handler_retries_total",
                           "wapipe_webhook_signature_failures_total"})


@dataclass(frozen=True)
class Counts:
    messages: float = 0.0
    errors: float = 0.0


def parse(text: str) -> Counts:
    messages = errors = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in MESSAGE_SAMPLES:
                messages += sample.value
            elif sample.name in ERROR_SAMPLES:
                errors += sample.value
    return Counts(messages, errors)


def scrape(client: httpx.Client, url: str) -> Counts | None:
    try:
        r = client.get(url)
    except httpx.HTTPError:
        return None
    return parse(r.text) if r.status_code == 200 else None
