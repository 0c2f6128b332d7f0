"""Matplotlib view of the ALB's CloudWatch metrics (:mod:`tierlab.sim.metrics`). It only draws.

    m = tl.metrics.whatif_metrics(topo, topo.switch_off("web-sg-in-3000"), at_s=120)
    metric_charts.metrics_chart(m, alarm=tl.metrics.Alarm(treat_missing_data="notBreaching").evaluate(m))

A minute without a datapoint is drawn as a grey band marked "no data", never as a zero: that is
what CloudWatch holds when no request reaches the load balancer.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from ..errors import TierlabError
from ..sim.metrics import METRICS, PERIOD_S, AlarmResult, AlbMetrics
from .charts import _axes

__all__ = ["metrics_chart", "METRIC_COLORS"]

METRIC_COLORS: dict[str, str] = {
    "RequestCount": "#1565c0", "HTTPCode_ELB_5XX_Count": "#c62828", "HTTPCode_Target_5XX_Count": "#6a1b9a",
    "TargetConnectionErrorCount": "#ef6c00", "HTTPCode_Target_2XX_Count": "#2e7d32", "UnHealthyHostCount": "#5d4037",
    "HealthyHostCount": "#00897b", "HTTPCode_ELB_503_Count": "#ad1457", "HTTPCode_ELB_502_Count": "#d84315",
    "HTTPCode_ELB_504_Count": "#b71c1c", "HTTPCode_ELB_3XX_Count": "#757575", "TargetResponseTime": "#455a64",
}
_STATE_COLORS = {"OK": "#c8e6c9", "ALARM": "#ffcdd2", "INSUFFICIENT_DATA": "#e0e0e0"}


def metrics_chart(m: AlbMetrics, metrics: Sequence[str] = ("RequestCount", "HTTPCode_ELB_5XX_Count",
                                                           "HTTPCode_Target_5XX_Count", "TargetConnectionErrorCount"),
                  *, alarm: AlarmResult | None = None, ax: Any = None) -> Any:
    """Each metric's 1-minute datapoints as a line with markers (gaps where there is no datapoint; grey
    bands where no request metric has one), the events (the change, the failure), and an alarm's state
    along the bottom when given."""
    if not isinstance(m, AlbMetrics):
        raise TierlabError("metrics_chart() needs ALB metrics", "pass tl.metrics.alb_metrics(topo) or whatif_metrics(...)")
    unknown = [x for x in metrics if x not in METRICS]
    if unknown:
        raise TierlabError(f"no ALB metric {unknown[0]!r}", "one of: " + ", ".join(METRICS))
    f = m.frame()
    ax = _axes(ax, (9, 4.5))
    mid = f["t_s"] + PERIOD_S / 2
    for name in metrics:
        ax.plot(mid, f[name], marker="o", ms=4, lw=1.5, color=METRIC_COLORS.get(name, "#000000"), label=name)
    requests = [x for x in METRICS if x not in ("HealthyHostCount", "UnHealthyHostCount")]
    blank = f[requests].isna().all(axis=1)
    for t0, empty in zip(f["t_s"], blank):
        if empty:
            ax.axvspan(t0, t0 + PERIOD_S, color="#eeeeee", zorder=0)
            ax.text(t0 + PERIOD_S / 2, 0.5, "no data", transform=ax.get_xaxis_transform(), ha="center",
                    fontsize=7, color="#616161", rotation=90)
    for t, what in m.events:
        ax.axvline(t, color="black", lw=1)
        ax.text(t, 0.98, f" {what}", transform=ax.get_xaxis_transform(), fontsize=8, va="top")
    if alarm is not None:
        for row in alarm.rows:
            ax.axvspan(row["t_s"], row["t_s"] + PERIOD_S, ymin=0, ymax=0.04,
                       color=_STATE_COLORS[str(row["state"])], zorder=1)
        steps, last = [], ""
        for row in alarm.rows:
            if row["state"] != last:
                last = str(row["state"])
                steps.append(f"{last} at {row['t_s'] + PERIOD_S:g} s")
        ax.text(0.0, 0.05, f" alarm {alarm.alarm.name or alarm.alarm.metric} (missing data: "
                f"{alarm.alarm.treat_missing_data}): " + " -> ".join(steps), transform=ax.transAxes, fontsize=7)
    top = max([float(v) for x in metrics for v in f[x] if not math.isnan(float(v))] or [1.0])
    ax.set_ylim(0, top * 1.15)
    ax.set_xlim(0, float(f["t_s"].iloc[-1]) + PERIOD_S)
    ax.set_xlabel("time (s), one datapoint per minute")
    ax.set_ylabel("count per minute")
    ax.set_title(f"{m.topology}: ALB metrics ({m.requests_per_s:g} requests/s offered)", fontsize=10)
    ax.legend(fontsize=7, loc="upper right")
    return ax
