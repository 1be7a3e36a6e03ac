"""Guardrails metrics, registered on an injected CollectorRegistry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


class GuardrailsMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.messages = Counter("wapipe_guardrails_messages_total", "Messages decided, by type, intent, route and "
                                "channel (whatsapp, api)", ["tenant", "message_type", "intent", "route", "channel"],
                                registry=registry)
        self.duplicates = Counter("wapipe_guardrails_dedupe_hits_total", "Redelivered messages dropped",
                                  ["tenant"], registry=registry)
        self.shadow = Counter("wapipe_guardrails_shadow_suppressed_total",
                              "Messages not answered because a person has the conversation", ["tenant"],
                              registry=registry)
        self.flood = Counter("wapipe_guardrails_flood_dropped_total", "Messages over the per-customer rate limit",
                             ["tenant"], registry=registry)
        self.flood_notices = Counter("wapipe_guardrails_flood_notices_total", "Slow-down notices sent",
                                     ["tenant"], registry=registry)
        self.unknown_tenant = Counter("wapipe_guardrails_unknown_tenant_total",
                                      "Messages for a phone_number_id with no tenant file", registry=registry)
        self.identity_moves = Counter("wapipe_guardrails_identity_moves_total",
                                      "Conversations moved to the customer's new key, by reason", ["tenant", "reason"],
                                      registry=registry)
        self.cancels = Counter("wapipe_guardrails_cancels_total", "Revokes and edits: answers cancelled, or found "
                               "already on their way (answered)", ["tenant", "reason", "outcome"], registry=registry)
        self.duration = Histogram("wapipe_guardrails_decision_duration_seconds", "Time to decide one message",
                                  ["tenant"], registry=registry,
                                  buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0))
        self.consent = Counter("wapipe_guardrails_consent_changes_total",
                               "Consent changes recorded (opt-out / opt-in), by where they came from",
                               ["tenant", "status", "source"], registry=registry)
        self.echoes = Counter("wapipe_guardrails_echoes_total", "Messages the business sent from the WhatsApp "
                              "Business app, by outcome (echo: a person, the bot silenced; echo_ours: our own "
                              "message; duplicate; unknown_tenant)", ["tenant", "outcome"], registry=registry)
        self.classify_budget = Counter("wapipe_guardrails_classify_budget_exceeded_total",
                                       "Classifications stopped by their pattern or time budget (sent to the model)",
                                       ["tenant"], registry=registry)
