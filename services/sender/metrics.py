"""Sender metrics, registered on an injected registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


class SenderMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.sends = Counter("wapipe_graph_sends_total", "Graph API calls by outcome (ok or Meta error code)",
                             ["tenant", "kind", "outcome"], registry=registry)
        self.send_duration = Histogram("wapipe_graph_send_duration_seconds", "Graph API call latency",
                                       ["kind"], registry=registry)
        self.replies = Counter("wapipe_replies_total", "Replies by final outcome",
                               ["tenant", "channel", "outcome"], registry=registry)
        self.cancelled = Counter("wapipe_replies_cancelled_total", "Replies not sent: the customer deleted or edited "
                                 "what they answered before they went out", ["tenant", "reason"], registry=registry)
        self.retries = Counter("wapipe_graph_retries_total", "Graph API retries by Meta error code",
                               ["tenant", "code"], registry=registry)
        self.pacing_wait = Histogram("wapipe_pacing_wait_duration_seconds", "Time a message waited for pacing",
                                     registry=registry, buckets=(0, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60))
        self.duplicates = Counter("wapipe_duplicate_sends_skipped_total", "Sends skipped: already sent",
                                  ["tenant"], registry=registry)
        self.template_fallbacks = Counter("wapipe_template_fallbacks_total", "Window closed: template sent",
                                          ["tenant"], registry=registry)
        self.failures = Counter("wapipe_reply_failures_total", "Permanent reply failures (alert on increase)",
                                ["tenant", "code"], registry=registry)
        self.refused = Counter("wapipe_replies_refused_total",
                               "Messages not sent by our own rule (reason opted_out: the customer opted out)",
                               ["tenant", "reason"], registry=registry)
        self.reply_latency = Histogram(
            "wapipe_reply_latency_seconds", "Webhook accepted at ingress -> reply confirmed by the Graph API",
            ["tenant", "channel"], registry=registry,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 8, 13, 20, 30, 60))
        self.statuses = Counter("wapipe_message_status_total", "Delivery statuses reported by Meta",
                                ["tenant", "status", "code"], registry=registry)
