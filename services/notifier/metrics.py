"""Notifier metrics, registered on an injected registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class NotifierMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.handoffs = Counter("wapipe_handoffs_total", "Handoffs to a person, by reason and outcome "
                                "(notified, already_active)", ["tenant", "reason", "outcome"], registry=registry)
        self.active = Gauge("wapipe_active_handoffs", "Conversations now HUMAN_ACTIVE", ["tenant"],
                            registry=registry)
        self.notifications = Counter("wapipe_notifications_total", "Messages for the internal numbers by kind "
                                     "(handoff, relay, alert)", ["tenant", "kind"], registry=registry)
        self.alerts = Counter("wapipe_alerts_total", "Alerts by kind (delivery, status, dlq, template, account) and "
                              "outcome (sent, rate_limited)", ["kind", "outcome"], registry=registry)
        self.relayed = Counter("wapipe_relayed_messages_total", "Customer messages relayed while HUMAN_ACTIVE",
                               ["tenant"], registry=registry)
        self.relays_suppressed = Counter("wapipe_relays_suppressed_total", "Customer messages not relayed because "
                                         "their conversation reached the relay limit", ["tenant"], registry=registry)
        self.operator_actions = Counter("wapipe_operator_actions_total", "Operator API actions",
                                        ["tenant", "action"], registry=registry)
