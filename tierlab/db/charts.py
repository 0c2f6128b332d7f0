"""Charts of the database lessons (matplotlib): each takes ``ax=`` and returns it. Views only."""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["pool_chart", "phases_chart"]


def _axes(ax: Any) -> Any:
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6, 3.2))
    return ax


def pool_chart(frame: pd.DataFrame, ax: Any = None) -> Any:
    """Rows per second for each (mode, TLS) row of ``pool_lesson``, latency written on the bars."""
    ax = _axes(ax)
    labels = [f"{m}\n{'TLS' if t else 'plain'}" for m, t in zip(frame["mode"], frame["tls"])]
    colors = ["#2e7d32" if m == "pooled" else "#c62828" for m in frame["mode"]]
    bars = ax.bar(labels, frame["rows_per_s"], color=colors)
    for bar, med in zip(bars, frame["latency_median_ms"]):
        ax.annotate(f"{med:.1f} ms/req", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center", va="bottom", fontsize=8)
    ax.set_ylabel("created users per second")
    ax.set_title("Connection pool vs a new connection per request")
    return ax


def phases_chart(phases: dict[str, float], ax: Any = None, seed_ms: float = 100.0) -> Any:
    """One stacked bar of a new connection's phases beside the seed's ~100 ms claim."""
    ax = _axes(ax)
    keys = ["tcp_connect_ms", "tls_handshake_ms", "auth_ms", "first_query_ms"]
    left = 0.0
    for k, color in zip(keys, ["#1565c0", "#6a1b9a", "#ef6c00", "#2e7d32"]):
        ax.barh(["measured"], [phases[k]], left=left, color=color, label=k.removesuffix("_ms").replace("_", " "))
        left += phases[k]
    ax.barh(["pool checkout"], [phases["pool_acquire_ms"]], color="#9e9e9e", label="pool acquire")
    ax.barh(["seed says"], [seed_ms], color="#bdbdbd")
    ax.set_xlabel("milliseconds")
    ax.set_title("Opening a new connection, phase by phase")
    ax.legend(fontsize=7, loc="lower right")
    return ax
