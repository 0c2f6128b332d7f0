"""Matplotlib views of the latency model and the timelines. They only draw.

Every function takes ``ax=`` (a new figure's axes when None) and returns the axes::

    from tierlab import charts
    m = tl.latency_model(topo)
    charts.waterfall(m)                                  # one request, step by step
    charts.distribution(m.simulate(100_000, seed=1))     # histogram with p50/p95/p99
    charts.side_by_side(m.simulate(20_000), m.with_params(pool=False).simulate(20_000),
                        labels=("pool", "no pool"))
    charts.health_check_chart(tl.health_check_timeline(topo))
    charts.failover_chart(tl.failover_timeline(topo))
    charts.pool_chart([tl.pool_timeline(topo), tl.pool_timeline(topo, pre_ping=True)])
    charts.pool_chart(tl.db.pool_lesson(...))           # the database lesson's frame: rows/s per mode
    charts.phases_chart(phases)                          # a new connection's phases vs the seed's ~100 ms

The database lessons' charts live here too (the ``db`` layer holds no views); every chart
module (this one, :mod:`tierlab.views.edge_charts`) gets its axes from :func:`_axes`.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..errors import TierlabError
from ..sim.latency import LatencyModel, Simulation
from ..sim.timelines import FailoverTimeline, HealthCheckTimeline, PoolTimeline

__all__ = ["COMPONENT_COLORS", "waterfall", "distribution", "side_by_side", "health_check_chart",
           "failover_chart", "pool_chart", "pool_lesson_chart", "phases_chart", "waterfall_svg", "STEP_LABELS"]

#: One colour per latency component, shared by every chart.
COMPONENT_COLORS: dict[str, str] = {
    "client": "#9e9e9e", "dns": "#8e24aa", "tls": "#3949ab", "firewall": "#bdbdbd", "alb": "#fb8c00",
    "node": "#43a047", "db": "#00897b", "return": "#e53935",
}


def _axes(ax: Any, figsize: tuple[float, float] = (8, 4.5)) -> Any:
    """``ax`` itself, or the axes of a new pyplot figure of ``figsize`` inches (the one helper of
    every chart module)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _fig, ax = plt.subplots(figsize=figsize)
    return ax


def waterfall(model: LatencyModel | Any, *, ax: Any = None, hide_zero: bool = True) -> Any:
    """One request, step by step: a bar per journey step from its start to its end (mean times).
    ``model`` is a LatencyModel or its ``waterfall()`` frame."""
    df = model.waterfall() if isinstance(model, LatencyModel) else model
    if not {"step", "start_ms", "duration_ms", "component"} <= set(getattr(df, "columns", ())):
        raise TierlabError("waterfall() needs a LatencyModel or its waterfall() frame",
                           "pass tl.latency_model(topo) or model.waterfall()")
    if hide_zero:
        df = df[df["duration_ms"] > 1e-9]
    ax = _axes(ax, (8, max(3.0, 0.35 * len(df) + 1)))
    ys = list(range(len(df)))[::-1]
    for y, (_, r) in zip(ys, df.iterrows()):
        ax.barh(y, r["duration_ms"], left=r["start_ms"], color=COMPONENT_COLORS.get(r["component"], "#607d8b"),
                edgecolor="white", gid=f"tl_step_{r['step'].replace('-', '_')}")
        ax.text(r["start_ms"] + r["duration_ms"], y, f" {r['duration_ms']:.1f} ms", va="center", fontsize=8)
    ax.set_yticks(ys)
    import pandas as pd

    seed_steps = df["seed_step"] if "seed_step" in df else [None] * len(df)
    ax.set_yticklabels([s if n is None or pd.isna(n) else f"{s} ({int(n)})" for s, n in zip(df["step"], seed_steps)])
    ax.set_xlabel("time since the click (ms)")
    end = float((df["start_ms"] + df["duration_ms"]).max()) if len(df) else 0.0
    ax.set_xlim(0, end * 1.15 + 1)
    title = model.label() if isinstance(model, LatencyModel) else "one request"
    ax.set_title(f"{title}: {end:.0f} ms")
    _component_legend(ax, [str(c) for c in df["component"].unique()])
    return ax


def _component_legend(ax: Any, components: Sequence[str]) -> None:
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color=COMPONENT_COLORS.get(c, "#607d8b"), label=c) for c in components],
              fontsize=8, loc="upper right")


def distribution(sim: Simulation, *, ax: Any = None, bins: int = 80, claim_ms: tuple[float, float] | None = None) -> Any:
    """The total's histogram with p50, p95 and p99 marked; ``claim_ms`` shades a claimed range
    (the seed preset shades the seed's 300-500 ms by default)."""
    if not isinstance(sim, Simulation):
        raise TierlabError("distribution() needs a Simulation", "pass model.simulate(n, seed)")
    ax = _axes(ax)
    ax.hist(sim.totals_ms, bins=bins, color="#5c6bc0", alpha=0.85)
    if claim_ms is None and sim.model.preset == "seed":
        from ..sim.latency import SEED_CLAIM_MS

        claim_ms = SEED_CLAIM_MS
    if claim_ms is not None:
        ax.axvspan(*claim_ms, color="#fff59d", alpha=0.5, zorder=0, label=f"claimed {claim_ms[0]:.0f}-{claim_ms[1]:.0f} ms")
    styles = {"p50": "-", "p95": "--", "p99": ":"}
    for _, r in sim.percentiles().iterrows():
        ax.axvline(r["total_ms"], color="#c62828", ls=styles.get(r["percentile"], "-"),
                   label=f"{r['percentile']} {r['total_ms']:.0f} ms")
    ax.set_xlabel("total time of the request (ms)")
    ax.set_ylabel(f"requests (of {sim.n:,})")
    ax.set_title(sim.model.label())
    ax.legend(fontsize=8)
    return ax


def side_by_side(a: Simulation, b: Simulation, *, labels: tuple[str, str] | None = None, ax: Any = None) -> Any:
    """Two scenarios as stacked bars of their mean time per component, with p50/p95 noted."""
    for s in (a, b):
        if not isinstance(s, Simulation):
            raise TierlabError("side_by_side() needs two Simulations", "pass m1.simulate(n, seed), m2.simulate(n, seed)")
    labels = labels or (a.model.label(), b.model.label())
    ax = _axes(ax, (8, 3.2))
    comps = list(COMPONENT_COLORS)
    for y, (sim, label) in enumerate(zip((b, a), (labels[1], labels[0]))):
        f = sim.frame()
        left = 0.0
        for c in comps:
            v = float(f.loc[f["component"] == c, "mean_ms"].sum())
            if v <= 0:
                continue
            ax.barh(y, v, left=left, color=COMPONENT_COLORS[c], edgecolor="white",
                    label=c if y == 0 else None)
            left += v
        ax.text(left, y, f"  p50 {sim.percentile(50):.0f} / p95 {sim.percentile(95):.0f} ms", va="center", fontsize=8)
    ax.set_yticks([0, 1])
    ax.set_yticklabels([labels[1], labels[0]])
    ax.set_xlabel("mean time per component (ms)")
    xmax = max(a.totals_ms.mean(), b.totals_ms.mean())
    ax.set_xlim(0, xmax * 1.45 + 1)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=8, frameon=False)
    return ax


def health_check_chart(tl: HealthCheckTimeline, *, ax: Any = None) -> Any:
    """The share of requests failing over time, with the failure, each node's removal and the fix."""
    if not isinstance(tl, HealthCheckTimeline):
        raise TierlabError("health_check_chart() needs a HealthCheckTimeline", "pass tl.health_check_timeline(topo)")
    f = tl.frame()
    ax = _axes(ax)
    ax.step(f["t_s"], f["failing_share"] * 100, where="post", color="#c62828", label="requests failing")
    ax.axvline(tl.t0_s, color="black", lw=1)
    ax.text(tl.t0_s, 0.98, " failure", transform=ax.get_xaxis_transform(), fontsize=8, va="top")
    for node, t in tl.removed_s().items():
        if t is not None:
            ax.axvline(t, color="#1565c0", ls="--", lw=1)
            ax.text(t, 0.92, f" {node} removes", transform=ax.get_xaxis_transform(), fontsize=7, rotation=90, va="top")
    if tl.recover_s is not None:
        ax.axvline(tl.recover_s, color="#2e7d32", lw=1)
        ax.text(tl.recover_s, 0.98, " fixed", transform=ax.get_xaxis_transform(), fontsize=8, va="top")
        for node, t in tl.returned_s().items():
            if t is not None:
                ax.axvline(t, color="#2e7d32", ls=":", lw=1)
    hc = tl.settings
    ax.set_title(f"{tl.failure}: interval {hc.interval_s} s, unhealthy {hc.unhealthy_threshold}, "
                 f"healthy {hc.healthy_threshold}" + ("" if tl.health_check else " — no health check")
                 + (" — deep /health" if tl.health_check and tl.check == "deep" else ""), fontsize=10)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("requests failing (%)")
    ax.set_ylim(0, 105)
    ax.set_xlim(0, tl.duration_s)
    return ax


def failover_chart(tl: FailoverTimeline, *, ax: Any = None) -> Any:
    """Each client's share of successful requests across an RDS failover."""
    if not isinstance(tl, FailoverTimeline):
        raise TierlabError("failover_chart() needs a FailoverTimeline", "pass tl.failover_timeline(topo)")
    f = tl.frame()
    ax = _axes(ax)
    colors = {"dns": "#2e7d32", "hard-coded-ip": "#c62828", "single-az": "#6d4c41"}
    for i, (client, g) in enumerate(f.groupby("client", sort=False)):
        ax.step(g["t_s"], g["success_share"] * 100 + i * 1.2, where="post", color=colors.get(str(client)), label=client)
    ax.axvline(tl.t0_s, color="black", lw=1)
    ax.axvspan(tl.t0_s + tl.failover_range_s[0], tl.t0_s + tl.failover_range_s[1], color="#eeeeee", zorder=0,
               label=f"failover {tl.failover_range_s[0]}-{tl.failover_range_s[1]} s")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("requests succeeding (%)")
    ax.set_ylim(-3, 108)
    ax.set_xlim(0, tl.duration_s)
    ax.set_title(f"{tl.topology}: the primary's AZ fails at t={tl.t0_s:.0f} s", fontsize=10)
    ax.legend(fontsize=8, loc="center right")
    return ax


def pool_chart(tls: "PoolTimeline | Sequence[PoolTimeline] | Any", *, ax: Any = None) -> Any:
    """Failed requests over time for one or more pools (e.g. without and with pre-ping).

    Given the database lesson's frame (``tl.db.pool_lesson``: columns ``mode``, ``tls``,
    ``rows_per_s``), draws :func:`pool_lesson_chart` instead."""
    if hasattr(tls, "columns"):
        return pool_lesson_chart(tls, ax=ax)
    items = [tls] if isinstance(tls, PoolTimeline) else list(tls)
    if not items or not all(isinstance(t, PoolTimeline) for t in items):
        raise TierlabError("pool_chart() needs PoolTimelines", "pass [tl.pool_timeline(topo), tl.pool_timeline(topo, pre_ping=True)]")
    ax = _axes(ax)
    for t in items:
        f = t.frame()
        label = "pre-ping" if t.pre_ping else "no pre-ping"
        ax.step(f["t_s"], f["failed_total"], where="post", label=f"{label}: {t.failed_after_recovery} failed after recovery")
    first = items[0]
    ax.axvline(first.t0_s, color="black", lw=1)
    ax.text(first.t0_s, 0.95, " failover starts", transform=ax.get_xaxis_transform(), fontsize=8, va="top")
    if first.ready_s is not None:
        ax.axvline(first.ready_s, color="#2e7d32", lw=1, ls="--")
        ax.text(first.ready_s, 0.05, " database back", transform=ax.get_xaxis_transform(), fontsize=8, va="bottom",
                color="#2e7d32")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("failed requests (cumulative)")
    ax.set_title(f"{first.server}: pool of {first.pool_size} across a failover", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    return ax


# ----------------------------------------------------------------------------- the database lessons


def pool_lesson_chart(frame: Any, *, ax: Any = None) -> Any:
    """Rows per second for each (mode, TLS) row of ``tl.db.pool_lesson``, latency written on the bars."""
    if not {"mode", "tls", "rows_per_s", "latency_median_ms"} <= set(getattr(frame, "columns", ())):
        raise TierlabError("pool_lesson_chart() needs the frame of tl.db.pool_lesson",
                           "pass the frame pool_lesson() returned (columns mode, tls, rows_per_s, latency_median_ms)")
    ax = _axes(ax, (6, 3.2))
    labels = [f"{m}\n{'TLS' if t else 'plain'}" for m, t in zip(frame["mode"], frame["tls"])]
    colors = ["#2e7d32" if m == "pooled" else "#c62828" for m in frame["mode"]]
    bars = ax.bar(labels, frame["rows_per_s"], color=colors)
    for bar, med in zip(bars, frame["latency_median_ms"]):
        ax.annotate(f"{med:.1f} ms/req", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center", va="bottom", fontsize=8)
    ax.set_ylabel("created users per second")
    ax.set_title("Connection pool vs a new connection per request")
    return ax


_PHASES = ("tcp_connect_ms", "tls_handshake_ms", "auth_ms", "first_query_ms")


def phases_chart(phases: dict[str, float], *, ax: Any = None, seed_ms: float = 100.0) -> Any:
    """One stacked bar of a new connection's phases beside the seed's ~100 ms claim."""
    missing = [k for k in (*_PHASES, "pool_acquire_ms") if k not in (phases or {})]
    if missing:
        raise TierlabError(f"phases_chart() needs the phases {', '.join(missing)}",
                           "pass the dict tl.db's new-connection measurement returned")
    ax = _axes(ax, (6, 3.2))
    left = 0.0
    for k, color in zip(_PHASES, ["#1565c0", "#6a1b9a", "#ef6c00", "#2e7d32"]):
        ax.barh(["measured"], [phases[k]], left=left, color=color, label=k.removesuffix("_ms").replace("_", " "))
        left += phases[k]
    ax.barh(["pool checkout"], [phases["pool_acquire_ms"]], color="#9e9e9e", label="pool acquire")
    ax.barh(["seed says"], [seed_ms], color="#bdbdbd")
    ax.set_xlabel("milliseconds")
    ax.set_title("Opening a new connection, phase by phase")
    ax.legend(fontsize=7, loc="lower right")
    return ax


# ----------------------------------------------------------------------------- the waterfall as SVG (the app)

#: Short names for the waterfall's rows (the steps' titles are sentences).
STEP_LABELS: dict[str, str] = {
    "click": "Click, fetch()", "dns": "DNS lookup", "connect-alb": "TCP + TLS handshake",
    "alb-process": "ALB picks a server", "node-process": "Express handler", "db-connect": "DB connection",
    "db-query": "INSERT … RETURNING", "db-reply": "Result to the server", "node-respond": "JSON response",
    "alb-receive": "Response to the ALB", "browser-receive": "Browser shows it",
}


def waterfall_svg(model: LatencyModel | Any, *, band_ms: tuple[float, float] | None = (300.0, 500.0),
                  title: str | None = None, stop_step: str | None = None, wait_ms: float | None = None,
                  width_px: int = 640) -> str:
    """The waterfall as a small SVG (no matplotlib: a few hundred bytes, drawn in well under a
    millisecond, sharp at any zoom, scaled to its container's width and never stretched).

    ``stop_step``: the request stops at that step (a block); later rows are drawn hollow and
    marked "not reached", and ``wait_ms`` (how long the user waits for the failure) is drawn as
    a hatched bar instead of a total."""
    import html as _h

    if isinstance(model, LatencyModel):  # straight from the steps: no pandas on the app's hot path
        every: list[dict[str, Any]] = []
        t = 0.0
        for st in model.steps:
            every.append({"step": st.step.id, "title": st.step.title, "component": st.step.latency,
                          "start_ms": t, "duration_ms": st.mean_ms})
            t += st.mean_ms
    elif {"step", "start_ms", "duration_ms", "component"} <= set(getattr(model, "columns", ())):
        every = model.to_dict("records")
    else:
        raise TierlabError("waterfall_svg() needs a LatencyModel or its waterfall() frame",
                           "pass tl.latency_model(topo) or model.waterfall()")
    order = [r["step"] for r in every]
    stop_i = order.index(stop_step) if stop_step in order else None
    rows = [r for i, r in enumerate(every) if r["duration_ms"] > 1e-9 or (stop_i is not None and i == stop_i)]
    end = max((r["start_ms"] + r["duration_ms"] for r in every), default=0.0)
    xmax = max(end, wait_ms or 0.0, band_ms[1] if band_ms else 0.0) * 1.08 + 1
    left, right, row_h, top = 150, 70, 20, 24
    plot_w = width_px - left - right
    height = top + row_h * (len(rows) + (1 if wait_ms is not None else 0)) + 26

    def x(ms: float) -> float:
        return left + plot_w * ms / xmax

    out = [f'<svg class="tl-waterfall" viewBox="0 0 {width_px} {height}" width="100%" '
           f'style="max-width:{int(width_px * 1.4)}px;height:auto;font-family:DejaVu Sans, Verdana, sans-serif" '
           f'role="img" aria-label="{_h.escape(title or "waterfall")}" xmlns="http://www.w3.org/2000/svg">',
           '<defs><pattern id="tl-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
           '<rect width="3" height="6" fill="#d55e00"/></pattern></defs>']
    if title:
        out.append(f'<text x="4" y="15" font-size="13" font-weight="bold">{_h.escape(title)}</text>')
    if band_ms:
        out.append(f'<rect x="{x(band_ms[0]):.1f}" y="{top}" width="{x(band_ms[1]) - x(band_ms[0]):.1f}" '
                   f'height="{row_h * len(rows)}" fill="#f0e442" opacity="0.3"><title>the seed claims '
                   f'{band_ms[0]:.0f}-{band_ms[1]:.0f} ms</title></rect>')
    y = top
    for r in rows:
        i = order.index(r["step"])
        after = stop_i is not None and i > stop_i
        label = STEP_LABELS.get(r["step"], str(r.get("title", r["step"]))[:22])
        colour = COMPONENT_COLORS.get(r["component"], "#607d8b")
        fill = f'fill="none" stroke="{colour}" stroke-dasharray="3,2"' if after else f'fill="{colour}"'
        w = max(x(r["start_ms"] + r["duration_ms"]) - x(r["start_ms"]), 1.0)
        note = "not reached" if after else f'{r["duration_ms"]:.1f} ms'
        out.append(f'<g class="tl-wf-row" data-step="{r["step"]}"><text x="{left - 6}" y="{y + 14}" font-size="12" '
                   f'text-anchor="end">{_h.escape(label)}</text><rect x="{x(r["start_ms"]):.1f}" y="{y + 3}" '
                   f'width="{w:.1f}" height="{row_h - 6}" {fill}/><text x="{x(r["start_ms"]) + w + 4:.1f}" '
                   f'y="{y + 14}" font-size="11" fill="#333">{note}</text></g>')
        y += row_h
    if wait_ms is not None:
        out.append(f'<g class="tl-wf-wait"><text x="{left - 6}" y="{y + 14}" font-size="12" text-anchor="end" '
                   f'font-weight="bold" fill="#a03c00">User waits</text><rect x="{x(0):.1f}" y="{y + 3}" '
                   f'width="{x(wait_ms) - x(0):.1f}" height="{row_h - 6}" fill="url(#tl-hatch)" stroke="#d55e00"/>'
                   f'<text x="{min(x(wait_ms) + 4, width_px - right + 4):.1f}" y="{y + 14}" font-size="11" '
                   f'fill="#a03c00">{wait_ms / 1000:.0f} s, then fails</text></g>')
        y += row_h
    else:
        out.append(f'<line x1="{x(end):.1f}" x2="{x(end):.1f}" y1="{top}" y2="{y}" stroke="#333" stroke-dasharray="4,3"/>')
    out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y + 2}" y2="{y + 2}" stroke="#999"/>')
    out.append(f'<text x="{left}" y="{y + 18}" font-size="11" fill="#333">0</text>'
               f'<text x="{left + plot_w}" y="{y + 18}" font-size="11" fill="#333" text-anchor="end">'
               + (f"{xmax / 1000:.0f} s" if xmax >= 5000 else f"{xmax:.0f} ms") + ' since the click</text></svg>')
    return "".join(out)
