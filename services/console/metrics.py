"""Console metrics, registered on an injected registry (the operator actions themselves are counted by the
operator actions' own counter, `wapipe_operator_actions_total`)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class ConsoleMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.sign_ins = Counter("wapipe_console_sign_ins_total", "Console sign-ins by outcome (ok, refused, locked)",
                                ["outcome"], registry=registry)
        self.live_streams = Gauge("wapipe_console_live_streams", "Open live-update streams (SSE)",
                                  registry=registry)
        self.live_events = Counter("wapipe_console_live_events_total", "Inbox changes announced to the pages, by "
                                   "kind (message, handoff, reply, failed)", ["kind"], registry=registry)
        self.refused = Counter("wapipe_console_refused_total", "Requests refused, by why (csrf, scope)", ["why"],
                               registry=registry)
