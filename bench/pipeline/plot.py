"""docs/bench-latency.png: webhook-accepted -> Graph-API-received latency against offered load, per path."""

from __future__ import annotations

from pathlib import Path

from bench.pipeline.phases import PhaseResult


def plot(results: list[PhaseResult], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    series: dict[str, list[PhaseResult]] = {}
    for r in results:
        if r.route == "faq" and "max" not in r.name:
            series.setdefault("FAQ (guardrails answer)", []).append(r)
        elif r.route == "ai":
            series.setdefault(f"AI, model {r.llm_s:g} s", []).append(r)
    for label, rs in series.items():
        xs = [r.rate for r in rs]
        ax.plot(xs, [r.p50 * 1000 for r in rs], marker="o", label=f"{label} p50")
        ax.plot(xs, [r.p99 * 1000 for r in rs], marker="^", linestyle="--", label=f"{label} p99")
    ax.set_xlabel("offered load (messages/s)")
    ax.set_ylabel("accepted -> Graph API (ms)")
    ax.set_yscale("log")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    ax.set_title("wapipe pipeline latency vs load (2 vCPU, whole stack on one machine)")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
