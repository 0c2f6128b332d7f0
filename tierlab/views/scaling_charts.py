"""A matplotlib view of an Auto Scaling timeline. It only draws what the timeline's frames hold::

    x = tl.zone_outage_timeline(tl.load("seed-asg"))
    tl.scaling_charts.auto_scaling_chart(x)     # instances per zone, healthy count, desired, events
"""

from __future__ import annotations

from typing import Any

from ..errors import TierlabError
from ..sim.autoscaling import AutoScalingTimeline
from .charts import _axes

__all__ = ["auto_scaling_chart", "ZONE_COLORS"]

#: Colours for up to four zones (stacked instance counts).
ZONE_COLORS = ("#90caf9", "#ffcc80", "#a5d6a7", "#ce93d8")
_MARKS = {"fail": ("failure", "#c62828"), "zone-down": ("zone down", "#c62828"), "deploy": ("deploy", "#6a1b9a"),
          "asg-unhealthy": ("replace", "#ef6c00"), "desired": ("desired set", "#37474f")}


def auto_scaling_chart(tl: AutoScalingTimeline, *, ax: Any = None) -> Any:
    """Instances per zone (stacked areas), healthy targets and the desired capacity over time, and
    the share of requests failing; the happenings and replacements marked."""
    if not isinstance(tl, AutoScalingTimeline):
        raise TierlabError("auto_scaling_chart() needs an AutoScalingTimeline",
                           "pass tl.zone_outage_timeline(tl.load('seed-asg')) or another Auto Scaling timeline")
    ax = _axes(ax, (9, 4.5))
    f, z = tl.frame(), tl.zones()
    wide = z.pivot(index="t_s", columns="az", values="instances")
    ax.stackplot(wide.index, *[wide[c] for c in wide.columns], labels=[f"instances in {c}" for c in wide.columns],
                 colors=ZONE_COLORS[: len(wide.columns)], alpha=0.8, step="post")
    ax.step(f["t_s"], f["healthy"], where="post", color="#1b5e20", lw=2, label="healthy at every ALB node")
    ax.step(f["t_s"], f["desired"], where="post", color="black", ls="--", lw=1, label="desired")
    ax.step(f["t_s"], f["draining"], where="post", color="#6d4c41", ls=":", lw=1.5, label="draining")
    seen: set[tuple[str, float]] = set()
    for ev in tl.event_log:
        if ev.kind in _MARKS and (ev.kind, ev.t_s) not in seen:
            seen.add((ev.kind, ev.t_s))
            text, color = _MARKS[ev.kind]
            ax.axvline(ev.t_s, color=color, lw=0.8, alpha=0.7)
            ax.text(ev.t_s, 0.98, f" {text}", transform=ax.get_xaxis_transform(), fontsize=7, rotation=90, va="top",
                    color=color)
    share = ax.twinx()
    share.fill_between(f["t_s"], f["failing_share"] * 100, step="post", color="#e53935", alpha=0.25,
                       label="requests failing (%)")
    share.set_ylim(0, 105)
    share.set_ylabel("requests failing (%)", color="#c62828", fontsize=8)
    ax.set_xlim(0, tl.duration_s)
    ax.set_ylim(0, max(int(f["instances"].max()), tl.group.max_size) + 1)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("instances")
    ax.set_title(f"{tl.group.name}: {tl.health_check_type} health checks, grace {tl.grace_period_s:g} s, "
                 f"deregistration delay {tl.deregistration_delay_s:g} s", fontsize=10)
    ax.legend(fontsize=7, loc="lower left")
    return ax
