"""Builds the Grafana dashboards in deploy/grafana/dashboards/ (the JSON is committed; edit this, then run
`python deploy/grafana/build.py`; tests/unit/deploy checks the JSON matches and every metric exists in code).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "dashboards"
DS = {"type": "prometheus", "uid": "${datasource}"}
Q = "histogram_quantile({q}, sum by (le{by}) (rate({m}_bucket{sel}[$__rate_interval])))"


def quantiles(metric: str, sel: str = "", by: str = "", qs: tuple[float, ...] = (0.5, 0.95, 0.99)) -> list[tuple]:
    extra = f", {by}" if by else ""
    prefix = "{{" + by + "}} " if by else ""
    return [(Q.format(q=q, by=extra, m=metric, sel=sel), f"{prefix}p{int(q * 100)}") for q in qs]


def panel(title: str, targets: list[tuple], unit: str = "short", kind: str = "timeseries", w: int = 12,
          desc: str = "", stack: bool = False) -> dict[str, Any]:
    p: dict[str, Any] = {
        "type": kind, "title": title, "description": desc, "datasource": DS,
        "gridPos": {"h": 8, "w": w},
        "targets": [{"refId": chr(65 + i), "expr": e, "legendFormat": lg, "datasource": DS}
                    for i, (e, lg) in enumerate(targets)],
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}, "tooltip": {"mode": "multi"}},
    }
    if stack:
        p["fieldConfig"]["defaults"]["custom"] = {"stacking": {"mode": "normal"}, "fillOpacity": 30}
    if kind == "stat":
        p["options"] = {"reduceOptions": {"calcs": ["lastNotNull"]}, "colorMode": "value", "graphMode": "area"}
    return p


def row(title: str) -> dict[str, Any]:
    return {"type": "row", "title": title, "collapsed": False, "gridPos": {"h": 1, "w": 24}, "panels": []}


def layout(panels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Place panels left to right, wrapping at Grafana's 24 columns."""
    x = y = 0
    row_h = 0
    for i, p in enumerate(panels):
        gp = p["gridPos"]
        if p["type"] == "row" or x + gp["w"] > 24:
            x, y = 0, y + row_h
            row_h = 0
        gp["x"], gp["y"] = x, y
        p["id"] = i + 1
        x += gp["w"]
        row_h = max(row_h, gp["h"])
        if p["type"] == "row":
            x, y, row_h = 0, y + 1, 0
    return panels


def dashboard(uid: str, title: str, panels: list[dict[str, Any]], extra_vars: list[dict] | None = None) -> dict:
    return {
        "uid": uid, "title": title, "tags": ["wapipe"], "editable": False, "schemaVersion": 39, "version": 1,
        "timezone": "utc", "refresh": "30s", "time": {"from": "now-6h", "to": "now"},
        "links": [{"title": "wapipe dashboards", "type": "dashboards", "tags": ["wapipe"], "asDropdown": True}],
        "templating": {"list": [
            {"name": "datasource", "label": "Prometheus", "type": "datasource", "query": "prometheus",
             "current": {"text": "Prometheus", "value": "prometheus"}},
            *(extra_vars or []),
        ]},
        "annotations": {"list": []},
        "panels": layout(panels),
    }


def runtime_panels(service: str) -> list[dict[str, Any]]:
    s = f'service="{service}"'
    return [
        row("Stream runtime"),
        panel("Records/s by outcome", [(f"sum by (topic, outcome) (rate(wapipe_records_total{{{s}}}[$__rate_interval]))",
                                        "{{topic}} {{outcome}}")], "ops", stack=True),
        panel("Handler duration (input to outputs confirmed)",
              quantiles("wapipe_handler_duration_seconds", f"{{{s}}}"), "s"),
        panel("Consumer lag by topic", [(f"sum by (topic) (wapipe_consumer_lag{{{s}}})", "{{topic}}")], "short", w=8),
        panel("In flight / paused pods", [(f"sum(wapipe_in_flight_records{{{s}}})", "in flight"),
                                          (f"sum(wapipe_partitions_paused{{{s}}})", "pods paused")], w=8),
        panel("DLQ, retries, rebalances (per hour)",
              [(f"sum by (topic, error) (increase(wapipe_dlq_records_total{{{s}}}[1h]))", "dlq {{topic}} {{error}}"),
               (f"sum by (topic) (increase(wapipe_handler_retries_total{{{s}}}[1h]))", "retries {{topic}}"),
               (f"sum by (kind) (increase(wapipe_rebalances_total{{{s}}}[1h]))", "rebalance {{kind}}")], w=8),
    ]


TENANT = {"name": "tenant", "label": "Tenant (phone_number_id)", "type": "query", "datasource": DS, "includeAll": True,
          "multi": True, "allValue": ".*", "refresh": 2,
          "query": {"query": "label_values(wapipe_replies_total, tenant)", "refId": "tenant"},
          "definition": "label_values(wapipe_replies_total, tenant)", "current": {"text": "All", "value": "$__all"}}
T = 'tenant=~"$tenant"'
R = "[$__rate_interval]"
# Every notifier pod reports the same count (it comes from Redis): take the max per tenant, then add tenants.
ACTIVE_HANDOFFS = f"sum(max by (tenant) (wapipe_active_handoffs{{{T}}}))"


def overview() -> dict:
    return dashboard("wapipe-overview", "wapipe / pipeline overview", [
        row("Traffic"),
        panel("Webhooks/s by outcome", [(f"sum by (outcome) (rate(wapipe_webhook_requests_total{R}))", "{{outcome}}")],
              "reqps", w=8, stack=True),
        panel("Replies/s by outcome", [(f"sum by (outcome) (rate(wapipe_replies_total{{{T}}}{R}))", "{{outcome}}")],
              "ops", w=8, stack=True),
        panel("Webhook signature failures/s", [
            (f"sum by (reason) (rate(wapipe_webhook_signature_failures_total{R}))", "{{reason}}")], "reqps", w=8,
            desc="A spike means a rotated app secret on one side only, or someone probing the webhook."),
        row("Latency"),
        panel("Webhook answer latency (ingress, publish confirmed)", quantiles("wapipe_webhook_duration_seconds"), "s",
              w=8, desc="SLO: 99% under 0.5 s."),
        panel("Per-stage duration p95", [
            (Q.format(q=0.95, by=", service", m="wapipe_handler_duration_seconds", sel=""), "{{service}}"),
            (Q.format(q=0.95, by="", m="wapipe_webhook_duration_seconds", sel=""), "ingress"),
        ], "s", w=8),
        panel("Answer latency (AI stage) p50/p95/p99", quantiles("wapipe_ai_answer_duration_seconds"), "s", w=8),
        row("Kafka"),
        panel("Consumer lag by service and topic", [
            ("sum by (service, topic) (wapipe_consumer_lag)", "{{service}} {{topic}}")], w=12),
        panel("Records sent to a DLQ (per hour)", [
            ("sum by (service, topic) (increase(wapipe_dlq_records_total[1h]))", "{{service}} {{topic}}")], w=12),
        row("LLM"),
        panel("LLM calls/s by provider and outcome", [
            (f"sum by (provider, outcome) (rate(wapipe_llm_calls_total{R}))", "{{provider}} {{outcome}}")],
            "ops", w=8, stack=True),
        panel("Tokens/s by kind", [(f"sum by (kind) (rate(wapipe_llm_tokens_total{{{T}}}{R}))", "{{kind}}")], w=8),
        panel("Spend today-ish (USD, 24 h) by tenant", [
            (f"sum by (tenant) (increase(wapipe_llm_cost_usd_total{{{T}}}[24h]))", "{{tenant}}")], "currencyUSD",
            w=8),
        panel("Answer cache hit ratio", [
            (f'sum(rate(wapipe_ai_answer_cache_total{{{T},outcome="hit"}}{R})) / '
             f'sum(rate(wapipe_ai_answer_cache_total{{{T},outcome=~"hit|miss"}}{R}))', "hit ratio")], "percentunit",
            w=8),
        panel("Circuit breakers (0 closed, 1 open, 2 half-open)", [
            ("max by (provider) (wapipe_llm_circuit_state)", "{{provider}}")], w=8),
        panel("Spend-cap refusals (per hour)", [
            (f"sum by (tenant) (increase(wapipe_llm_spend_cap_hits_total{{{T}}}[1h]))", "{{tenant}}")], w=8),
        row("WhatsApp"),
        panel("Graph API errors/s by code", [
            (f'sum by (outcome) (rate(wapipe_graph_sends_total{{{T},outcome!="ok"}}{R}))', "{{outcome}}")],
            "ops", w=8, desc="130429 rate limit, 131056 pair rate limit, 131047 window closed, 190 token."),
        panel("24 h window: closed (131047) and template fallbacks", [
            (f'sum(rate(wapipe_graph_sends_total{{{T},outcome="131047"}}{R}))', "131047 refused"),
            (f"sum(rate(wapipe_template_fallbacks_total{{{T}}}{R}))", "template sent instead"),
            (f'sum(rate(wapipe_reply_failures_total{{{T},code="131047"}}{R}))', "reply failed"),
        ], "ops", w=8),
        panel("Active handoffs", [(ACTIVE_HANDOFFS, "active")], w=8, kind="stat"),
    ], [TENANT])


def ingress() -> dict:
    return dashboard("wapipe-ingress", "wapipe / ingress", [
        panel("Webhooks/s by outcome", [(f"sum by (outcome) (rate(wapipe_webhook_requests_total{R}))", "{{outcome}}")],
              "reqps", stack=True),
        panel("Webhook latency", quantiles("wapipe_webhook_duration_seconds"), "s"),
        panel("Signature failures/s", [
            (f"sum by (reason) (rate(wapipe_webhook_signature_failures_total{R}))", "{{reason}}")], "reqps", w=8),
        panel("Events published/s by type", [
            (f"sum by (type) (rate(wapipe_events_published_total{{{T}}}{R}))", "{{type}}")], "ops", w=8),
        panel("Errors Meta reported in webhooks", [
            (f"sum by (code) (increase(wapipe_meta_errors_total{R}))", "{{code}}")], w=8),
        panel("Updates skipped (not an event)", [
            (f"sum(rate(wapipe_webhook_updates_skipped_total{R}))", "skipped")], "ops"),
        panel("Unreadable parts set aside (raw log DLQ)", [
            (f"sum by (part) (increase(wapipe_webhook_unreadable_parts_total{R}))", "{{part}}")]),
        panel("Webhook changes/s by route", [
            (f"sum by (route) (rate(wapipe_webhook_changes_total{R}))", "{{route}}")], "ops", w=8, stack=True),
        panel("Account events by field and event", [
            (f"sum by (field, event) (increase(wapipe_account_events_total{R}))", "{{field}} {{event}}")], w=8),
        panel("Call events ignored", [
            (f"sum by (event) (increase(wapipe_webhook_calls_total{{{T}}}{R}))", "{{event}}")], w=8),
        panel("/api/chat requests/s by outcome", [
            (f"sum by (outcome) (rate(wapipe_api_chat_requests_total{R}))", "{{outcome}}")], "reqps", stack=True),
    ], [TENANT])


def ai() -> dict:
    return dashboard("wapipe-ai", "wapipe / ai", [
        row("Answers"),
        panel("Answers/s by outcome", [(f"sum by (outcome) (rate(wapipe_ai_answers_total{{{T}}}{R}))", "{{outcome}}")],
              "ops", stack=True),
        panel("Answer latency (after coalescing)", quantiles("wapipe_ai_answer_duration_seconds"), "s"),
        panel("Fallbacks/s by reason", [
            (f"sum by (reason) (rate(wapipe_ai_fallbacks_total{{{T}}}{R}))", "{{reason}}")], "ops", w=8),
        panel("Coalesced requests/s", [(f"sum(rate(wapipe_ai_coalesced_total{{{T}}}{R}))", "coalesced")], "ops", w=8),
        panel("Answer cache lookups, stores and refusals/s", [
            (f"sum by (outcome) (rate(wapipe_ai_answer_cache_total{{{T}}}{R}))", "{{outcome}}")], "ops", w=8),
        row("Model"),
        panel("LLM calls/s", [(f"sum by (provider, outcome) (rate(wapipe_llm_calls_total{R}))", "{{provider}} {{outcome}}")],
              "ops", stack=True),
        panel("LLM call latency", quantiles("wapipe_llm_call_duration_seconds", by="provider"), "s"),
        panel("Tokens/s by model and kind", [
            (f"sum by (model, kind) (rate(wapipe_llm_tokens_total{{{T}}}{R}))", "{{model}} {{kind}}")], w=8),
        panel("Spend (USD, 24 h) by tenant and model", [
            (f"sum by (tenant, model) (increase(wapipe_llm_cost_usd_total{{{T}}}[24h]))", "{{tenant}} {{model}}")],
            "currencyUSD", w=8),
        panel("Circuit state and spend-cap refusals", [
            ("max by (provider) (wapipe_llm_circuit_state)", "circuit {{provider}}"),
            (f"sum by (tenant) (increase(wapipe_llm_spend_cap_hits_total{{{T}}}[1h]))", "cap {{tenant}}")], w=8),
        *runtime_panels("ai"),
    ], [TENANT])


def sender() -> dict:
    return dashboard("wapipe-sender", "wapipe / sender", [
        panel("Replies/s by outcome and channel", [
            (f"sum by (outcome, channel) (rate(wapipe_replies_total{{{T}}}{R}))", "{{outcome}} {{channel}}")],
            "ops", stack=True),
        panel("Graph API calls/s by outcome (ok or Meta code)", [
            (f"sum by (outcome) (rate(wapipe_graph_sends_total{{{T}}}{R}))", "{{outcome}}")], "ops", stack=True),
        panel("Graph API latency by kind", quantiles("wapipe_graph_send_duration_seconds", by="kind"), "s", w=8),
        panel("Pacing wait", quantiles("wapipe_pacing_wait_duration_seconds"), "s", w=8),
        panel("Retries/s by Meta code", [
            (f"sum by (code) (rate(wapipe_graph_retries_total{{{T}}}{R}))", "{{code}}")], "ops", w=8),
        panel("Permanent failures (per hour) by code", [
            (f"sum by (code) (increase(wapipe_reply_failures_total{{{T}}}[1h]))", "{{code}}")], w=8),
        panel("Template fallbacks and duplicate sends skipped", [
            (f"sum(rate(wapipe_template_fallbacks_total{{{T}}}{R}))", "template fallback"),
            (f"sum(rate(wapipe_duplicate_sends_skipped_total{{{T}}}{R}))", "duplicate skipped")], "ops", w=8),
        panel("Delivery statuses/s from Meta", [
            (f"sum by (status) (rate(wapipe_message_status_total{{{T}}}{R}))", "{{status}}")], "ops", w=8, stack=True),
        *runtime_panels("sender"),
    ], [TENANT])


def guardrails() -> dict:
    return dashboard("wapipe-guardrails", "wapipe / guardrails", [
        row("Decisions"),
        panel("Messages/s by route", [
            (f"sum by (route) (rate(wapipe_guardrails_messages_total{{{T}}}{R}))", "{{route}}")], "ops", stack=True),
        panel("Messages/s by intent", [
            (f"sum by (intent) (rate(wapipe_guardrails_messages_total{{{T}}}{R}))", "{{intent}}")], "ops", stack=True),
        panel("Messages/s by type", [
            (f"sum by (message_type) (rate(wapipe_guardrails_messages_total{{{T}}}{R}))", "{{message_type}}")],
            "ops", w=8, stack=True),
        panel("Dropped: duplicates, shadow mode, flood", [
            (f"sum(rate(wapipe_guardrails_dedupe_hits_total{{{T}}}{R}))", "duplicate"),
            (f"sum(rate(wapipe_guardrails_shadow_suppressed_total{{{T}}}{R}))", "person has it"),
            (f"sum(rate(wapipe_guardrails_flood_dropped_total{{{T}}}{R}))", "flood"),
            (f"sum(rate(wapipe_guardrails_flood_notices_total{{{T}}}{R}))", "slow-down notice"),
            (f"sum(rate(wapipe_guardrails_unknown_tenant_total{R}))", "unknown tenant"),
            (f"sum by (outcome) (rate(wapipe_guardrails_echoes_total{{{T}}}{R}))", "business app echo: {{outcome}}")],
            "ops", w=8),
        panel("Decision time", quantiles("wapipe_guardrails_decision_duration_seconds"), "s", w=8),
        *runtime_panels("guardrails"),
    ], [TENANT])


def notifier() -> dict:
    return dashboard("wapipe-notifier", "wapipe / notifier", [
        row("Handoffs"),
        panel("Active handoffs by tenant", [
            (f"max by (tenant) (wapipe_active_handoffs{{{T}}})", "{{tenant}}")], w=8,
            desc="Refreshed when the operator API lists handoffs."),
        panel("Handoffs/h by reason", [
            (f"sum by (reason, outcome) (increase(wapipe_handoffs_total{{{T}}}[1h]))", "{{reason}} {{outcome}}")],
            w=8),
        panel("Operator actions/h", [
            (f"sum by (action) (increase(wapipe_operator_actions_total{{{T}}}[1h]))", "{{action}}")], w=8),
        row("Internal numbers"),
        panel("Notifications/s by kind", [
            (f"sum by (kind) (rate(wapipe_notifications_total{{{T}}}{R}))", "{{kind}}"),
            (f"sum(rate(wapipe_relayed_messages_total{{{T}}}{R}))", "relayed customer messages")], "ops"),
        panel("Alerts/h by kind and outcome", [
            ("sum by (kind, outcome) (increase(wapipe_alerts_total[1h]))", "{{kind}} {{outcome}}")]),
        *runtime_panels("notifier"),
    ], [TENANT])


def media() -> dict:
    return dashboard("wapipe-media", "wapipe / media", [
        row("Voice notes, photos, documents"),
        panel("Media messages/s by kind and outcome", [
            (f"sum by (kind, outcome) (rate(wapipe_media_messages_total{{{T},kind!=\"text\"}}{R}))",
             "{{kind}} {{outcome}}")], "ops", stack=True,
            desc="understood, or unavailable:<reason> (expired, too_large, sha256_mismatch...): the message went "
                 "on either way."),
        panel("Step failures/s (after retries)", [
            (f"sum by (step) (rate(wapipe_media_step_failures_total{R}))", "{{step}}")], "ops"),
        panel("Download time", quantiles("wapipe_media_step_duration_seconds", '{step="download"}'), "s", w=8),
        panel("Transcription time", quantiles("wapipe_media_step_duration_seconds", '{step="transcription"}'), "s",
              w=8),
        panel("OCR and vision time", quantiles("wapipe_media_step_duration_seconds", '{step=~"ocr|vision"}', "step"),
              "s", w=8),
        *runtime_panels("media"),
    ], [TENANT])


DASHBOARDS = {"overview": overview, "ingress": ingress, "guardrails": guardrails, "ai": ai, "sender": sender,
              "notifier": notifier, "media": media}


def render() -> dict[Path, str]:
    return {OUT / f"wapipe-{name}.json": json.dumps(build(), indent=2, ensure_ascii=False) + "\n"
            for name, build in DASHBOARDS.items()}


if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    for path, text in render().items():
        path.write_text(text, encoding="utf-8")
    sys.stdout.write(f"wrote {len(DASHBOARDS)} dashboards to {OUT}\n")
