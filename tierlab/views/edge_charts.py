"""Charts for the edge and DNS models (views only: they draw what ``tierlab.network.edge`` / ``tierlab.network.dns`` computed).

Each function takes an optional ``ax=`` and returns the axes it drew on.
"""

from __future__ import annotations

import math
from typing import Sequence

from ..network.dns import Timeline
from ..network.edge import SEED_FILES, CacheRun
from .charts import _axes

__all__ = ["cache_events", "hit_ratio_curve", "dns_timelines"]

HIT, MISS, STALE = "#9e9e9e", "#1565c0", "#c62828"
_SIZE = (9, 3.2)


def cache_events(run: CacheRun, ax=None, *, hours: bool = True):
    """Every request of a cache run: a row per object, grey = hit, blue = miss (origin fetch), red = stale."""
    ax = _axes(ax, _SIZE)
    paths = [f.path for f in SEED_FILES if any(e.path == f.path for e in run.events)]
    row = {p: i for i, p in enumerate(paths)}
    scale = 3600.0 if hours else 1.0
    groups: dict[str, tuple[list[float], list[float]]] = {"hit": ([], []), "miss (origin fetch)": ([], []), "stale (old release)": ([], [])}
    for e in run.events:
        key = "stale (old release)" if e.stale else ("hit" if e.result == "hit" else "miss (origin fetch)")
        groups[key][0].append(e.t_s / scale)
        groups[key][1].append(row[e.path])
    style = {"hit": dict(color=HIT, marker="|", s=40), "miss (origin fetch)": dict(color=MISS, marker="o", s=30),
             "stale (old release)": dict(color=STALE, marker="x", s=30)}
    for label, (xs, ys) in groups.items():
        if xs:
            ax.scatter(xs, ys, label=label, **style[label])
    if run.deploy_at_s is not None:
        ax.axvline(run.deploy_at_s / scale, color="black", ls="--", lw=1)
        ax.annotate(f"deploy ({run.strategy})", (run.deploy_at_s / scale, len(paths) - 0.5), fontsize=8,
                    ha="left", va="bottom")
    ax.set_yticks(range(len(paths)), paths)
    ax.set_ylim(-0.5, len(paths) + 0.2)
    ax.set_xlabel("time (h)" if hours else "time (s)")
    ax.set_title(f"CloudFront {run.distribution}: hit ratio {run.hit_ratio:.1%}, "
                 f"{run.origin_fetches} origin fetches", fontsize=10)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    return ax


def hit_ratio_curve(frame, ax=None):
    """Hit ratio against TTL, from ``tl.edge.hit_ratio_by_ttl``'s frame."""
    ax = _axes(ax, _SIZE)
    xs = [max(t, 1) for t in frame["ttl_s"]]
    ax.plot(xs, frame["hit_ratio"], marker="o", color=MISS)
    for x, y, t in zip(xs, frame["hit_ratio"], frame["ttl_s"]):
        ax.annotate(f"{t} s", (x, y), textcoords="offset points", xytext=(4, -12), fontsize=8)
    ax.set_xscale("log")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("TTL (s, log scale; 0 drawn at 1)")
    ax.set_ylabel("hit ratio")
    ax.set_title("Same requests, different TTLs", fontsize=10)
    return ax


def dns_timelines(timelines: Sequence[Timeline], ax=None):
    """One row per client: big dot = asked Route 53, small = from cache, square = hard-coded; red = stale."""
    ax = _axes(ax, _SIZE)
    change = None
    for i, tl_ in enumerate(timelines):
        for l in tl_.lookups:
            color = STALE if l.stale else (MISS if l.source == "route53" else HIT)
            marker = {"route53": "o", "cache": ".", "hard-coded": "s"}[l.source]
            ax.scatter([l.t_s], [i], color=color, marker=marker, s=36 if l.source != "cache" else 16)
        if tl_.change_at_s is not None:
            change = tl_.change_at_s
        s = tl_.stale_for_s
        text = "never follows" if math.isinf(s) else f"stale {s:.0f} s"
        if tl_.lookups:
            ax.annotate(text, (tl_.lookups[-1].t_s, i), textcoords="offset points", xytext=(6, -3), fontsize=8)
    if change is not None:
        ax.axvline(change, color="black", ls="--", lw=1)
    ax.set_yticks(range(len(timelines)), [t.client.name for t in timelines])
    ax.set_ylim(-0.6, len(timelines) - 0.4)
    ax.set_xlabel("time (s)")
    name = timelines[0].name if timelines else ""
    ax.set_title(f"{name}: who still uses the old address after the change (red)", fontsize=10)
    return ax
