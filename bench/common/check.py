"""Match what the simulator's Graph API received against what was posted: latency, lost, duplicated, order."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from bench.common.webhooks import Sent


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)  # accepted -> first part at the Graph API, seconds
    answered: int = 0
    lost: list[Sent] = field(default_factory=list)
    duplicated: dict[str, int] = field(default_factory=dict)  # send id -> times the Graph API accepted it
    out_of_order: list[str] = field(default_factory=list)  # conversations whose replies came in another order
    other_sends: int = 0  # Graph API messages not answering a posted message (flood notices, handoff texts...)
    last_reply: float = 0.0

    def pct(self, q: float) -> float:
        xs = sorted(self.latencies)
        if not xs:
            return float("nan")
        return xs[min(len(xs) - 1, int(q * len(xs)))]

    @property
    def mean(self) -> float:
        return statistics.fmean(self.latencies) if self.latencies else float("nan")


def match(msgs: list[Sent], graph: list[dict[str, Any]], excused: set[str] | None = None,
          order: dict[str, int] | None = None) -> Outcome:
    """`graph` is /_sim/messages; `excused` are wamids answered by another message's reply (AI coalescing);
    `order` is each message's position in the pipeline's input (its first offset in the inbound topic: a
    webhook refused and re-posted can reach the pipeline after a later one), else the order they were sent."""
    out = Outcome()
    by_send: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for g in graph:
        by_send[str(g.get("biz_opaque_callback_data") or "")].append(g)
    for send_id, hits in by_send.items():
        if send_id and len(hits) > 1:
            out.duplicated[send_id] = len(hits)
    known: set[str] = set()
    per_conv: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for m in msgs:
        known.update(m.reply_ids)
        if not m.accepted:
            continue
        hits = next((h for r in m.reply_ids for h in (by_send.get(f"{r}:0"), by_send.get(f"{r}:tpl")) if h), [])
        if not hits:
            if not excused or m.wamid not in excused:
                out.lost.append(m)
            continue
        at = min(float(h["timestamp"]) for h in hits)
        out.answered += 1
        out.latencies.append(at - m.accepted)
        out.last_reply = max(out.last_reply, at)
        per_conv[m.wa_id].append((order.get(m.wamid, m.seq) if order else m.seq, at))
    for wa_id, seq_at in per_conv.items():
        by_time = [s for s, _ in sorted(seq_at, key=lambda x: x[1])]
        if by_time != sorted(by_time):
            out.out_of_order.append(wa_id)
    out.other_sends = sum(1 for g in graph if str(g.get("biz_opaque_callback_data") or "").split(":")[0] not in known)
    return out
