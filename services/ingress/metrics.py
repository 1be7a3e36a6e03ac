"""Ingress metrics, registered on an injected CollectorRegistry (no global state)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class IngressMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.webhook_requests = Counter(
            "wapipe_webhook_requests_total", "POST /webhook requests by outcome", ["outcome"], registry=registry)
        self.webhook_duration = Histogram(
            "wapipe_webhook_duration_seconds", "POST /webhook handling time, publish confirmation included",
            buckets=_BUCKETS, registry=registry)
        self.webhook_body_bytes_in_flight = Gauge(
            "wapipe_webhook_body_bytes_in_flight", "webhook body bytes reserved by requests being read or handled",
            registry=registry)
        self.signature_failures = Counter(
            "wapipe_webhook_signature_failures_total", "webhooks refused for their signature", ["reason"],
            registry=registry)
        self.events_published = Counter(
            "wapipe_events_published_total", "events confirmed by the broker", ["type", "tenant"], registry=registry)
        self.meta_errors = Counter(
            "wapipe_meta_errors_total", "errors Meta reported inside webhooks", ["code"], registry=registry)
        self.webhook_changes = Counter(
            "wapipe_webhook_changes_total", "webhook changes by field and route (messages, echoes, coexistence, "
            "templates, account, consent, calls, unknown); an unknown field is accepted and ignored",
            ["field", "route"],
            registry=registry)
        self.account_events = Counter(
            "wapipe_account_events_total", "account-level events published (templates, number quality, account "
            "updates), by WhatsApp Business Account id, field and Meta's event", ["account", "field", "event"],
            registry=registry)
        self.calls_ignored = Counter(
            "wapipe_webhook_calls_total", "call events received and ignored (calling is not supported yet)",
            ["tenant", "event"], registry=registry)
        self.coexistence_ignored = Counter(
            "wapipe_webhook_coexistence_total", "WhatsApp Business app coexistence webhooks accepted and not "
            "published: `history` messages (or `declined`), `smb_app_state_sync` contacts by action",
            ["tenant", "field", "item"], registry=registry)
        self.unreadable_parts = Counter(
            "wapipe_webhook_unreadable_parts_total", "parts of accepted webhooks that could not be read, put on "
            "the raw log's DLQ (entry, change, message, status)", ["part"], registry=registry)
        self.updates_skipped = Counter(
            "wapipe_webhook_updates_skipped_total", "updates that could not become an event", registry=registry)
        self.identity_links = Counter(
            "wapipe_identity_resolutions_total", "webhook events given their customer's conversation key, by how: "
            "known, new (an id seen for the first time), merged, moved (an identity change), conflict",
            ["outcome"], registry=registry)
        self.api_chat_requests = Counter(
            "wapipe_api_chat_requests_total", "POST /api/chat requests by outcome", ["outcome"], registry=registry)
        self.api_chat_rate_limited = Counter(
            "wapipe_api_chat_rate_limited_total", "POST /api/chat requests refused by a rate limit, by the limit "
            "that refused (key, tenant, conversation)", ["scope"], registry=registry)
