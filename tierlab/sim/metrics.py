"""The ALB's CloudWatch metrics over a timeline, and a CloudWatch alarm that reads them.

What AWS publishes, and when (AWS: "CloudWatch metrics for your Application Load Balancer",
https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html):

* Elastic Load Balancing reports metrics only when requests flow through the load balancer, in
  60-second periods; with no requests, or no data for a metric, nothing is reported. So a drop in
  front of the ALB (DNS, the public NACL, the ALB's SG) is MISSING DATA, not zeros.
* The counts (``RequestCount``, ``HTTPCode_*``, ``TargetConnectionErrorCount``) are reported only
  when non-zero ("Reporting criteria: there is a nonzero value"): a healthy minute has no
  ``HTTPCode_ELB_5XX_Count`` datapoint at all.
* ``RequestCount`` "is only incremented for requests where the load balancer node was able to choose
  a target": a 503 for a target group with no targets, or a listener that only redirects, is not in it.
* ``HTTPCode_ELB_5XX_Count`` counts the ALB's own 502/503/504 (``HTTPCode_ELB_502_Count`` ... break it
  down); ``HTTPCode_Target_5XX_Count`` the targets' (the app's 500). ``TargetConnectionErrorCount``:
  connections to a target not established (refused or timed out; health-check connections are not
  counted). ``TargetResponseTime`` (Average, seconds): from the request leaving the ALB until the target
  starts its response, so a request the target never answers adds none.
* ``HealthyHostCount`` / ``UnHealthyHostCount`` come from the health checks, which run whatever the
  browsers do, so they are reported every minute, per target group and per (target group, AZ). Each ALB
  node checks on its own: this model publishes the worst node's view (Minimum healthy, Maximum unhealthy).

Alarms follow "Configuring how CloudWatch alarms treat missing data"
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html):
``missing`` (the default; all datapoints of the evaluation range missing -> INSUFFICIENT_DATA),
``notBreaching`` (missing counts as good), ``breaching`` (missing counts as bad), ``ignore`` (the
alarm keeps its state). With only some datapoints missing, ``missing`` and ``ignore`` judge the ones
present (fewer present than ``datapoints_to_alarm``, all breaching: ALARM): this model's reading of
the page's table, the least settled part of this module.

The drivers: a journey (``tl.journey(topo)``: the steady state), a what-if at a moment
(:func:`whatif_metrics`: health checks take the broken targets out on their own clock), the health-check
timeline (:func:`health_metrics`) and the RDS failover timeline (:func:`failover_metrics`).
Counts are expected values of a steady request rate (``requests_per_s``), rounded per minute; a request
counts in the minute it is sent.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Callable, Literal, Mapping

from ..errors import ParameterError
from ..network.topology import Topology
from ..request.journey import journey
from ..request.pair import PairResult
from ..request.trace import Trace
from .failover import FailoverTimeline
from .health import HealthCheckTimeline, removal_delay_s

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["METRICS", "CATEGORIES", "Traffic", "AlbMetrics", "Alarm", "AlarmResult", "TREAT_MISSING",
           "traffic_of", "alb_metrics", "whatif_metrics", "health_metrics", "failover_metrics", "scenario_metrics",
           "failure_signatures", "default_alarms", "autoscaling_metrics"]

#: What happened to one browser request, and which metrics it moves.
CATEGORIES: dict[str, tuple[str, ...]] = {
    "ok": ("RequestCount", "HTTPCode_Target_2XX_Count", "TargetResponseTime"),
    "target_5xx": ("RequestCount", "HTTPCode_Target_5XX_Count", "TargetResponseTime"),
    "elb_502": ("RequestCount", "HTTPCode_ELB_5XX_Count", "HTTPCode_ELB_502_Count", "TargetConnectionErrorCount"),
    "elb_504_connect": ("RequestCount", "HTTPCode_ELB_5XX_Count", "HTTPCode_ELB_504_Count",
                        "TargetConnectionErrorCount"),
    "elb_504_idle": ("RequestCount", "HTTPCode_ELB_5XX_Count", "HTTPCode_ELB_504_Count"),
    "elb_503": ("HTTPCode_ELB_5XX_Count", "HTTPCode_ELB_503_Count"),
    "elb_3xx": ("HTTPCode_ELB_3XX_Count",),
    "dropped": (),
}
_WHY = {
    "ok": "a target answered 200",
    "target_5xx": "the app answered 500 (the database refused)",
    "elb_502": "the target refused the connection: the ALB answers 502",
    "elb_504_connect": "the ALB could not connect to the target in time: 504",
    "elb_504_idle": "the target took the request but never answered (its database connection hangs): 504 at the "
                    "idle timeout",
    "elb_503": "no registered target: the ALB answers 503 without choosing one",
    "elb_3xx": "the listener only redirects: the ALB answers 301 without choosing a target",
    "dropped": "never reached the load balancer",
}
#: Every metric this model publishes, in display order.
METRICS = ("RequestCount", "HTTPCode_ELB_5XX_Count", "HTTPCode_ELB_502_Count", "HTTPCode_ELB_503_Count",
           "HTTPCode_ELB_504_Count", "HTTPCode_ELB_3XX_Count", "HTTPCode_Target_2XX_Count",
           "HTTPCode_Target_5XX_Count", "TargetConnectionErrorCount", "TargetResponseTime",
           "HealthyHostCount", "UnHealthyHostCount")
_HOSTS = ("HealthyHostCount", "UnHealthyHostCount")
TREAT_MISSING = ("missing", "notBreaching", "breaching", "ignore")
PERIOD_S = 60


@dataclass(frozen=True)
class Traffic:
    """What happens to browser requests at one moment: each category's share of all requests, and
    each ALB node's view of each target's health."""

    parts: tuple[tuple[str, float], ...]
    health: tuple[tuple[str, str, bool], ...]   # (node, target, healthy at that node)
    azs: tuple[tuple[str, str], ...]            # (target, its AZ)
    reason: str
    hosts: tuple[tuple[str, str, float], ...] = ()  # (metric, AZ or "", count): given counts instead of ``health``

    def share(self, category: str) -> float:
        return sum(s for c, s in self.parts if c == category)


# ---------------------------------------------------------------------------- from a journey


def _pair_parts(p: PairResult, w: float) -> list[tuple[str, float]]:
    """The categories of the requests one node sends through one pair (weight ``w``)."""
    b = p.back
    if b.refused and not b.dropped:
        return [("elb_502", w)]
    out = [("elb_504_connect", w * (1 - b.share))] if b.share < 1 else []
    w2 = w * b.share
    d = p.db
    if d.refused and not d.dropped:
        return out + [("target_5xx", w2)]
    return out + [("elb_504_idle", w2 * (1 - d.share)), ("ok", w2 * d.share)]


def traffic_of(trace: Trace, healthy: Mapping[tuple[str, str], bool] | None = None, reason: str = "") -> Traffic:
    """The steady state of a journey: DNS spreads browsers evenly over the ALB nodes; each node spreads its
    requests over the targets it considers healthy (``healthy`` overrides the journey's view, e.g. before
    the health checks have noticed a change), over all of them when none is (fail open)."""
    topo = trace.topology
    view = {(p.node, p.target): (p.healthy if healthy is None else healthy.get((p.node, p.target), p.healthy))
            for p in trace.pairs}
    azs = tuple((i.name, topo.subnet(i.subnet).az) for i in topo.instances if i.name in topo.alb.targets)
    nodes = list(dict.fromkeys(n.name for n in topo.alb.nodes))
    parts: list[tuple[str, float]] = []
    if not trace.dns.passed:
        parts = [("dropped", 1.0)]
    elif trace.extra and any(c.blocking for c in trace.extra):
        parts = [("elb_503", 1.0)]
    else:
        for n in nodes:
            mine = [p for p in trace.pairs if p.node == n]
            wn = 1.0 / len(nodes)
            front = mine[0].front
            net = [c for c in front.checks if c.kind != "forward"]
            reach = wn * _share(front, net)
            parts.append(("dropped", wn - reach))
            if any(c.kind == "forward" and c.blocking for c in front.checks):
                parts.append(("elb_3xx", reach))
                continue
            rot = [p for p in mine if view[(p.node, p.target)]] or mine  # none healthy: fail open
            for p in rot:
                parts += _pair_parts(p, reach / len(rot))
    merged: dict[str, float] = {}
    for c, s in parts:
        if s > 1e-12:
            merged[c] = merged.get(c, 0.0) + s
    return Traffic(tuple(merged.items()), tuple((n, t, h) for (n, t), h in view.items()), azs,
                   reason or trace.summary())


def _share(front: Any, checks: list[Any]) -> float:
    from dataclasses import replace as _r

    return float(_r(front, checks=tuple(checks)).share)


# ---------------------------------------------------------------------------- the metrics


@dataclass(frozen=True)
class AlbMetrics:
    """One-minute datapoints of the ALB's metrics: ``frame()`` (one row per minute, NaN where AWS would
    publish nothing), ``datapoints()`` (only what is published, one row per metric and dimension)."""

    topology: str
    traffic_at: Callable[[float], Traffic] = field(repr=False, compare=False)
    duration_s: float
    requests_per_s: float
    target_response_s: float
    step_s: float = 1.0
    events: tuple[tuple[float, str], ...] = ()

    def _minute(self, t0: float) -> tuple[dict[str, float], dict[tuple[str, str], float], str]:
        sums = dict.fromkeys(METRICS[:-2], 0.0)
        hosts: dict[tuple[str, str], float] = {}
        n = max(1, int(round(PERIOD_S / self.step_s)))
        reasons: list[str] = []
        for k in range(n):
            tr = self.traffic_at(t0 + k * self.step_s)
            if not reasons or reasons[-1] != tr.reason:
                reasons.append(tr.reason)
            for cat, share in tr.parts:
                for m in CATEGORIES[cat]:
                    if m != "TargetResponseTime":
                        sums[m] += share * self.requests_per_s * self.step_s
            if k == n - 1:  # health: the view at the end of the minute
                hosts = _host_counts(tr)
        answered = sum(self.traffic_at(t0 + k * self.step_s).share(c) for k in range(n) for c in ("ok", "target_5xx"))
        sums["TargetResponseTime"] = self.target_response_s if answered > 0 else 0.0
        return sums, hosts, " | ".join(dict.fromkeys(reasons))

    def frame(self) -> "pd.DataFrame":
        """One row per minute: ``t_s`` (the minute's start), each metric for the whole target group (NaN:
        no datapoint, as AWS publishes none), and the ``reason``."""
        return self._frame.copy()

    @cached_property
    def _frame(self) -> "pd.DataFrame":
        import pandas as pd

        rows = []
        for i in range(int(math.ceil(self.duration_s / PERIOD_S))):
            t0 = i * PERIOD_S
            sums, hosts, why = self._minute(t0)
            row: dict[str, Any] = {"t_s": t0}
            for m in METRICS[:-2]:
                v = sums[m] if m == "TargetResponseTime" else round(sums[m])
                row[m] = float(v) if v > 0 else math.nan  # AWS: counts are reported only when non-zero
            row["HealthyHostCount"] = hosts.get(("HealthyHostCount", ""), 0.0)
            row["UnHealthyHostCount"] = hosts.get(("UnHealthyHostCount", ""), 0.0)
            row["reason"] = why
            rows.append(row)
        return pd.DataFrame(rows, columns=["t_s", *METRICS, "reason"])

    def datapoints(self) -> "pd.DataFrame":
        """Only the datapoints CloudWatch would hold: ``t_s, metric, dimensions, statistic, value, unit,
        reason``; host counts also per AZ."""
        import pandas as pd

        rows = []
        tg = "TargetGroup"
        for i in range(int(math.ceil(self.duration_s / PERIOD_S))):
            t0 = i * PERIOD_S
            sums, hosts, why = self._minute(t0)
            for m in METRICS[:-2]:
                v = sums[m] if m == "TargetResponseTime" else round(sums[m])
                if v > 0:
                    stat, unit = ("Average", "Seconds") if m == "TargetResponseTime" else ("Sum", "Count")
                    rows.append({"t_s": t0, "metric": m, "dimensions": f"LoadBalancer, {tg}", "statistic": stat,
                                 "value": float(v), "unit": unit, "reason": why})
            for (m, az), v in sorted(hosts.items()):
                rows.append({"t_s": t0, "metric": m, "dimensions": f"LoadBalancer, {tg}" + (f", AZ={az}" if az else ""),
                             "statistic": "Minimum" if m == "HealthyHostCount" else "Maximum", "value": v,
                             "unit": "Count", "reason": "from the health checks: reported every minute"})
        return pd.DataFrame(rows, columns=["t_s", "metric", "dimensions", "statistic", "value", "unit", "reason"])

    def series(self, metric: str) -> list[float | None]:
        """One metric's datapoints, minute by minute (None: no datapoint)."""
        if metric not in METRICS:
            raise ParameterError(f"no ALB metric {metric!r} in this model", "one of: " + ", ".join(METRICS))
        col = self.frame()[metric]
        return [None if math.isnan(v) else float(v) for v in col]

    def _repr_html_(self) -> str:
        return (f"<div class='tl-metrics'><b>{html.escape(self.topology)}: ALB metrics, 1-minute periods "
                f"(blank: no datapoint)</b>{self.frame().to_html(index=False, na_rep='')}</div>")


def _host_counts(tr: Traffic) -> dict[tuple[str, str], float]:
    """Healthy/unhealthy targets, whole group and per AZ, from the worst ALB node's view."""
    if tr.hosts:
        return {(m, az): v for m, az, v in tr.hosts}
    nodes = sorted({n for n, _, _ in tr.health})
    az = dict(tr.azs)
    out: dict[tuple[str, str], float] = {}
    for zone in ["", *sorted(set(az.values()))]:
        healthy, unhealthy = [], []
        for n in nodes:
            mine = [(t, h) for nn, t, h in tr.health if nn == n and (not zone or az.get(t) == zone)]
            healthy.append(sum(1 for _, h in mine if h))
            unhealthy.append(sum(1 for _, h in mine if not h))
        out[("HealthyHostCount", zone)] = float(min(healthy)) if healthy else 0.0
        out[("UnHealthyHostCount", zone)] = float(max(unhealthy)) if unhealthy else 0.0
    return out


def _rate(requests_per_s: float, duration_s: float, target_response_s: float) -> None:
    for name, v in (("requests_per_s", requests_per_s), ("duration_s", duration_s),
                    ("target_response_s", target_response_s)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
            raise ParameterError(f"{name}={v!r} must be a number >= 0", "e.g. requests_per_s=10, duration_s=600")
    if duration_s < PERIOD_S or duration_s > 24 * 3600:
        raise ParameterError(f"duration_s={duration_s:g} is not between one minute and one day",
                             "e.g. duration_s=600 (ten 1-minute datapoints)")


def alb_metrics(subject: Trace | Topology, *, duration_s: float = 600, requests_per_s: float = 10.0,
                target_response_s: float = 0.05) -> AlbMetrics:
    """The steady state of a topology (or a journey) as ALB metrics: every minute alike."""
    _rate(requests_per_s, duration_s, target_response_s)
    tr = subject if isinstance(subject, Trace) else journey(subject)
    traffic = traffic_of(tr)
    return AlbMetrics(tr.topology.name, lambda t: traffic, float(duration_s), float(requests_per_s),
                      float(target_response_s))


def _health_flips(before: Trace, after: Trace, at_s: float) -> dict[tuple[str, str], tuple[bool, float]]:
    """When each node's view of each target changes after a what-if at ``at_s``: a failing target is
    removed after ``unhealthy_threshold`` failed checks (each waiting for its timeout when nothing answers),
    a fixed one returns after ``healthy_threshold`` passing checks; each node checks on its own clock."""
    hc = after.topology.alb.health_check
    nodes = [n.name for n in after.topology.alb.nodes]
    phase = {n: (i + 0.5) * hc.interval_s / len(nodes) for i, n in enumerate(nodes)}
    old = {(p.node, p.target): p.healthy for p in before.pairs}
    out: dict[tuple[str, str], tuple[bool, float]] = {}
    for p in after.pairs:
        key = (p.node, p.target)
        was = old.get(key, True)
        wait = (phase[p.node] - at_s) % hc.interval_s
        if was and not p.healthy:
            failure = "crash" if p.back.refused and not p.back.dropped else "host-down"
            out[key] = (False, at_s + removal_delay_s(hc, failure, wait))
        elif p.healthy and not was:
            out[key] = (True, at_s + wait + (hc.healthy_threshold - 1) * hc.interval_s)
    return out


def whatif_metrics(before: Topology, after: Topology, *, at_s: float = 120.0, duration_s: float = 600,
                   requests_per_s: float = 10.0, target_response_s: float = 0.05) -> AlbMetrics:
    """``before`` until ``at_s``, then ``after`` (a what-if of it): the network changes at once; each ALB
    node's view of a target changes only when its health checks say so."""
    _rate(requests_per_s, duration_s, target_response_s)
    if isinstance(at_s, bool) or not isinstance(at_s, (int, float)) or not 0 <= at_s < duration_s:
        raise ParameterError(f"at_s={at_s!r} is not within the timeline (0-{duration_s:g} s)", "e.g. at_s=120")
    tb, ta = journey(before), journey(after)
    flips = _health_flips(tb, ta, at_s)
    first = traffic_of(tb, reason=f"before the change: {tb.summary()}")
    old = {(p.node, p.target): p.healthy for p in tb.pairs}
    cache: dict[tuple[tuple[str, str], ...], Traffic] = {}

    def at(t: float) -> Traffic:
        if t < at_s:
            return first
        view = {k: (flips[k][0] if k in flips and t >= flips[k][1] else old.get(k, True)) for k in old}
        pending = tuple(sorted(k for k in flips if t < flips[k][1]))
        if pending not in cache:
            why = f"after the change at {at_s:g} s: {ta.summary()}"
            if pending:
                why += f"; health checks have not yet changed {len(pending)} node/target view(s)"
            cache[pending] = traffic_of(ta, healthy=view, reason=why)
        return cache[pending]

    return AlbMetrics(after.name, at, float(duration_s), float(requests_per_s), float(target_response_s),
                      events=((float(at_s), "change"),))


_HC_CATEGORY = {"crash": "elb_502", "host-down": "elb_504_connect", "db-unreachable": "elb_504_idle",
                "check-only": "ok"}


def health_metrics(tl: HealthCheckTimeline, topo: Topology, *, requests_per_s: float = 10.0,
                   target_response_s: float = 0.05) -> AlbMetrics:
    """The health-check timeline (``tl.health_check_timeline(topo, failure=...)``) as ALB metrics: requests a
    node still sends to the failed target fail as the failure makes them (crash: 502, host down: 504 and a
    connection error, database unreachable: 504 at the idle timeout, a broken /health: 200)."""
    _rate(requests_per_s, tl.duration_s, target_response_s)
    azs = tuple((i.name, topo.subnet(i.subnet).az) for i in topo.instances if i.name in tl.targets)
    bad = _HC_CATEGORY[tl.failure]

    def at(t: float) -> Traffic:
        parts: dict[str, float] = {}
        health = []
        for node, _ in tl.phases_s:
            rot, _open = tl._node_view(node, t)
            for x in rot:
                cat = bad if (x in tl.failed and tl._is_down(t)) else "ok"
                parts[cat] = parts.get(cat, 0.0) + 1.0 / len(tl.phases_s) / len(rot)
            for x in dict(tl.node_targets)[node]:
                health.append((node, x, tl._healthy_at(node, x, t) if tl.health_check else True))
        return Traffic(tuple(parts.items()), tuple(health), azs, f"{tl.failure} of {', '.join(tl.failed)} at "
                       f"{tl.t0_s:g} s")

    return AlbMetrics(topo.name, at, tl.duration_s, float(requests_per_s), float(target_response_s),
                      events=((tl.t0_s, tl.failure),))


def failover_metrics(fo: FailoverTimeline, topo: Topology, *, client: str = "dns", requests_per_s: float = 10.0,
                     target_response_s: float = 0.05) -> AlbMetrics:
    """The RDS failover timeline as ALB metrics: the targets stay healthy (the shallow /health does not touch
    the database), so every failing request is a 504 at the ALB's idle timeout, none a 5XX from the targets."""
    if client not in fo.clients:
        raise ParameterError(f"the failover timeline has no client {client!r}", "one of: " + ", ".join(fo.clients))
    _rate(requests_per_s, fo.duration_s, target_response_s)
    base = traffic_of(journey(topo))

    def at(t: float) -> Traffic:
        row = fo._row(client, t)
        ok = float(row["success_share"])
        return Traffic((("ok", ok), ("elb_504_idle", 1.0 - ok)), base.health, base.azs,
                       f"{row['state']}: {row['reason']}")

    return AlbMetrics(topo.name, at, fo.duration_s, float(requests_per_s), float(target_response_s),
                      events=((fo.t0_s, "failover"),))


_ASG_CATEGORY = {"502": "elb_502", "503": "elb_503", "504": "elb_504_connect"}


def autoscaling_metrics(asg: Any, *, requests_per_s: float = 10.0, target_response_s: float = 0.05) -> AlbMetrics:
    """An Auto Scaling timeline (``tl.timelines.auto_scaling_timeline(...)``: instance failures, zone outages,
    rolling deploys) as ALB metrics: each second's failing share answered with the timeline's status (502
    refused, 503 no target in rotation, 504 no answer, counted as a connection error), host counts per zone
    from its snapshots (initial targets count as unhealthy, as AWS counts them until their first checks pass;
    draining ones as neither)."""
    snaps = getattr(asg, "snapshots", None)
    if not snaps:
        raise ParameterError("autoscaling_metrics() needs an Auto Scaling timeline",
                             "pass tl.timelines.auto_scaling_timeline(topo, ...)")
    duration = float(getattr(asg, "duration_s", len(snaps)))
    _rate(requests_per_s, duration, target_response_s)
    step = float(getattr(asg, "step_s", 1.0))
    name = str(getattr(getattr(asg, "topology", None), "name", "auto scaling"))

    def at(t: float) -> Traffic:
        s = snaps[min(int(t / step), len(snaps) - 1)]
        bad = _ASG_CATEGORY.get(str(s.status), "elb_504_connect")
        if s.status == "503" and s.failing_share >= 1.0:
            parts: tuple[tuple[str, float], ...] = (("elb_503", 1.0),)
        else:
            parts = (("ok", 1.0 - s.failing_share), (bad, s.failing_share))
        hosts = [("HealthyHostCount", "", float(s.healthy)), ("UnHealthyHostCount", "", float(s.unhealthy + s.initial))]
        for z in s.zones:
            hosts += [("HealthyHostCount", z.az, float(z.healthy)), ("UnHealthyHostCount", z.az, float(z.unhealthy))]
        return Traffic(parts, (), (), str(s.reason), tuple(hosts))

    return AlbMetrics(name, at, duration, float(requests_per_s), float(target_response_s),
                      events=tuple((float(getattr(h, "t0_s", getattr(h, "t_s", 0.0))), type(h).__name__)
                                   for h in getattr(asg, "happenings", ())))


# ---------------------------------------------------------------------------- alarms

State = Literal["OK", "ALARM", "INSUFFICIENT_DATA"]
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanOrEqualToThreshold": lambda v, th: v >= th,
    "GreaterThanThreshold": lambda v, th: v > th,
    "LessThanThreshold": lambda v, th: v < th,
    "LessThanOrEqualToThreshold": lambda v, th: v <= th,
}


@dataclass(frozen=True, kw_only=True)
class Alarm:
    """A CloudWatch metric alarm on one ALB metric (1-minute period): ``datapoints_to_alarm`` of the last
    ``evaluation_periods`` breaching puts it in ALARM; ``treat_missing_data`` says what a minute without a
    datapoint counts as."""

    name: str = ""
    metric: str = "HTTPCode_ELB_5XX_Count"
    threshold: float = 1.0
    comparison: str = "GreaterThanOrEqualToThreshold"
    evaluation_periods: int = 3
    datapoints_to_alarm: int = 2
    treat_missing_data: str = "missing"

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise ParameterError(f"no ALB metric {self.metric!r} in this model", "one of: " + ", ".join(METRICS))
        if self.comparison not in _COMPARE:
            raise ParameterError(f"unknown comparison {self.comparison!r}", "one of: " + ", ".join(_COMPARE))
        if self.treat_missing_data not in TREAT_MISSING:
            raise ParameterError(f"treat_missing_data={self.treat_missing_data!r} is not a CloudWatch setting",
                                 "one of: " + ", ".join(TREAT_MISSING))
        for k in ("evaluation_periods", "datapoints_to_alarm"):
            v = getattr(self, k)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ParameterError(f"{k}={v!r} must be a whole number >= 1", "e.g. evaluation_periods=3")
        if self.datapoints_to_alarm > self.evaluation_periods:
            raise ParameterError(f"datapoints_to_alarm={self.datapoints_to_alarm} exceeds evaluation_periods="
                                 f"{self.evaluation_periods}", "M out of N needs M <= N")

    def evaluate(self, metrics: AlbMetrics) -> "AlarmResult":
        """The alarm's state after each minute."""
        values = metrics.series(self.metric)
        rows = []
        state: State = "INSUFFICIENT_DATA"
        for i, v in enumerate(values):
            window = values[max(0, i - self.evaluation_periods + 1): i + 1]
            state, why = self._decide(window, state)
            point = "missing" if v is None else ("breaching" if _COMPARE[self.comparison](v, self.threshold) else "ok")
            rows.append({"t_s": i * PERIOD_S, "value": v, "datapoint": point, "state": state, "reason": why})
        return AlarmResult(self, tuple(rows))

    def _decide(self, window: list[float | None], state: State) -> tuple[State, str]:
        m, tmd = self.datapoints_to_alarm, self.treat_missing_data
        present = [v for v in window if v is not None]
        breach = sum(1 for v in present if _COMPARE[self.comparison](v, self.threshold))
        missing = len(window) - len(present)
        if tmd == "breaching":
            breach += missing
        if tmd in ("breaching", "notBreaching"):
            ok = breach < m
            return ("OK" if ok else "ALARM"), (f"{breach} of {len(window)} breaching (missing counts as "
                                               f"{'bad' if tmd == 'breaching' else 'good'})")
        if not present:
            if tmd == "ignore":
                return state, "no datapoint in the evaluation range: the alarm keeps its state (ignore)"
            return "INSUFFICIENT_DATA", "no datapoint in the evaluation range (missing): INSUFFICIENT_DATA"
        # AWS: with some datapoints missing, the alarm judges those present; fewer than M present and all
        # breaching still alarms (the documented table's "- - X" rows)
        need = min(m, len(present))
        if breach >= need:
            return "ALARM", f"{breach} of {len(present)} present datapoint(s) breaching ({missing} missing, not counted)"
        return "OK", f"{breach} of {len(present)} present datapoint(s) breaching ({missing} missing, not counted)"


@dataclass(frozen=True)
class AlarmResult:
    """An alarm's state minute by minute."""

    alarm: Alarm
    rows: tuple[dict[str, Any], ...]

    def frame(self) -> "pd.DataFrame":
        import pandas as pd

        return pd.DataFrame(list(self.rows), columns=["t_s", "value", "datapoint", "state", "reason"])

    @property
    def fired(self) -> bool:
        return any(r["state"] == "ALARM" for r in self.rows)

    @property
    def first_alarm_s(self) -> float | None:
        """The end of the minute whose evaluation first put the alarm in ALARM (None: never)."""
        return next((r["t_s"] + PERIOD_S for r in self.rows if r["state"] == "ALARM"), None)

    @property
    def states(self) -> tuple[str, ...]:
        return tuple(str(r["state"]) for r in self.rows)

    def _repr_html_(self) -> str:
        a = self.alarm
        return (f"<div class='tl-alarm'><b>{html.escape(a.name or a.metric)}</b>: {a.comparison} {a.threshold:g}, "
                f"{a.datapoints_to_alarm} of {a.evaluation_periods}, missing data: {a.treat_missing_data}"
                f"{self.frame().to_html(index=False, na_rep='')}</div>")


# ---------------------------------------------------------------------------- the course's failures


def default_alarms() -> tuple[Alarm, ...]:
    """Two alarms every ALB should have: 5XX from the ALB (missing = no errors), and traffic stopping
    (missing = no requests reach it, which is bad)."""
    return (Alarm(name="alb-5xx", metric="HTTPCode_ELB_5XX_Count", threshold=1, treat_missing_data="notBreaching"),
            Alarm(name="no-traffic", metric="RequestCount", threshold=1, comparison="LessThanThreshold",
                  treat_missing_data="breaching"))


def scenario_metrics(file: str = "checkpoints-off", *, at_s: float = 120.0, duration_s: float = 600,
                     requests_per_s: float = 10.0) -> "pd.DataFrame":
    """What each failure of a scenario file (``data/scenarios/<file>.yaml``) looks like on the ALB's
    metrics in the last minute, and which of :func:`default_alarms` fires."""
    import pandas as pd

    from ..network.loader import load, read_yaml
    from ..paths import data_path

    doc = read_yaml(data_path("scenarios", f"{file}.yaml"))
    base = load(str(doc.get("topology", "seed")))
    rows = []
    for sc in doc["scenarios"]:
        after = base.switch_off(sc["rule"])
        m = whatif_metrics(base, after, at_s=at_s, duration_s=duration_s, requests_per_s=requests_per_s)
        last = m.frame().iloc[-1]
        row: dict[str, Any] = {"checkpoint": sc.get("checkpoint"), "rule": sc["rule"], "status": sc.get("status")}
        for k in ("RequestCount", "HTTPCode_ELB_5XX_Count", "HTTPCode_Target_5XX_Count", "TargetConnectionErrorCount",
                  "HealthyHostCount", "UnHealthyHostCount"):
            row[k] = None if math.isnan(last[k]) else float(last[k])
        for a in default_alarms():
            row[f"{a.name} fires"] = a.evaluate(m).fired
        row["reason"] = _scenario_reason(row)
        rows.append(row)
    return pd.DataFrame(rows)


def _scenario_reason(row: Mapping[str, Any]) -> str:
    if row["RequestCount"] is None and row["HTTPCode_ELB_5XX_Count"] is None:
        return ("no request reaches the ALB: its request metrics have no datapoints at all (missing, not zero); "
                "only an alarm that treats missing data as breaching notices")
    bits = []
    if row["HTTPCode_ELB_5XX_Count"]:
        bits.append(f"{row['HTTPCode_ELB_5XX_Count']:.0f} 5XX from the ALB")
    if row["TargetConnectionErrorCount"]:
        bits.append(f"{row['TargetConnectionErrorCount']:.0f} connection errors to targets")
    if row["UnHealthyHostCount"]:
        bits.append(f"{row['UnHealthyHostCount']:.0f} unhealthy target(s)")
    if not row["UnHealthyHostCount"] and row["HTTPCode_ELB_5XX_Count"]:
        bits.append("every target healthy (the shallow /health passes): only the 5XX show it")
    return "; ".join(bits) or "no visible change"


_SIGNATURE = ("RequestCount", "HTTPCode_ELB_5XX_Count", "HTTPCode_ELB_502_Count", "HTTPCode_ELB_504_Count",
              "HTTPCode_Target_5XX_Count", "TargetConnectionErrorCount", "HealthyHostCount", "UnHealthyHostCount")


def _worst_minute(m: AlbMetrics) -> "pd.Series[Any]":
    """The minute with the most 5XX (the last one when none has any)."""
    f = m.frame()
    bad = f["HTTPCode_ELB_5XX_Count"].fillna(0) + f["HTTPCode_Target_5XX_Count"].fillna(0)
    return f.iloc[int(bad.to_numpy().argmax())] if bad.max() > 0 else f.iloc[-1]


def failure_signatures(topo: Topology | None = None, *, requests_per_s: float = 10.0) -> "pd.DataFrame":
    """Each failure of the course as the ALB's metrics show it: every checkpoint of ``checkpoints-off``
    switched off (the last minute, once the health checks have settled), in its worst minute each health-check failure of one target (crash, host
    down, database unreachable, a broken /health) and an RDS failover; which default alarm fires."""
    import pandas as pd

    from ..network.loader import load

    base = topo if topo is not None else load("seed")
    runs: list[tuple[str, str, AlbMetrics]] = []
    from ..network.loader import read_yaml
    from ..paths import data_path

    for sc in read_yaml(data_path("scenarios", "checkpoints-off.yaml"))["scenarios"]:
        runs.append((f"checkpoint {sc['checkpoint']} off", str(sc["rule"]),
                     whatif_metrics(base, base.switch_off(str(sc["rule"])), requests_per_s=requests_per_s)))
    from .health import health_check_timeline
    from .failover import failover_timeline

    for failure in ("crash", "host-down", "db-unreachable", "check-only"):
        hc = health_check_timeline(base, failure=failure, t0_s=90, duration_s=600)
        runs.append((f"{failure} of {hc.failed[0]}", "health-check timeline",
                     health_metrics(hc, base, requests_per_s=requests_per_s)))
    if base.database.multi_az:
        fo = failover_timeline(base, t0_s=90, duration_s=600)
        runs.append(("RDS Multi-AZ failover", "failover timeline", failover_metrics(fo, base, requests_per_s=requests_per_s)))
    rows = []
    for name, source, m in runs:
        w = m.frame().iloc[-1] if source not in ("health-check timeline", "failover timeline") else _worst_minute(m)
        row: dict[str, Any] = {"failure": name, "source": source, "minute_s": int(w["t_s"])}
        for k in _SIGNATURE:
            row[k] = None if math.isnan(float(w[k])) else float(w[k])
        for a in default_alarms():
            row[f"{a.name} fires"] = a.evaluate(m).fired
        row["reason"] = _scenario_reason(row)
        rows.append(row)
    return pd.DataFrame(rows)
