"""Availability over time: ALB health checks, RDS Multi-AZ failover, the pool across a failover.

Every timeline reads its settings from the loaded topology (``topo.alb.health_check``,
``topo.database`` and ``topo.records``), never from constants, and returns an object with
``.frame()`` (a DataFrame over simulated time, every row with a ``reason``)::

    hc = health_check_timeline(topo, failure="crash", t0_s=10)          # seed settings
    hc = health_check_timeline(topo, settings="aws-default", failure="host-down")
    hc.frame()        # t_s, failing_share, nodes_routing, status, reason
    hc.checks()       # every health check each ALB node made, with its result
    hc.summary()      # removal time per node, the analytic range, requests failed, return
    health_check_settings(topo)   # seed settings vs AWS defaults, side by side

    fo = failover_timeline(topo)        # DNS client, hard-coded IP, single-AZ
    pl = pool_timeline(topo, pre_ping=False)

Failure kinds for the health-check timeline:
  ``crash``           the Node.js process died: checks and requests are refused at once (502)
  ``host-down``       the host is dead or firewalled: each check waits for its timeout, requests
                      hang until the ALB's connect timeout (504)
  ``db-unreachable``  the server cannot reach its database; the shallow ``/health`` passes, so
                      the target is never removed (the seed's "missing health check" in its
                      real-world form)
  ``check-only``      only the health check fails (a broken /health): requests would succeed;
                      with every target failing, the ALB fails open and keeps serving

Pure model: pandas only; whether the standby is reachable comes from ``tierlab.request.journey``.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, Literal

from ..errors import ParameterError
from ..request.journey import journey
from ..network.loader import check_health_check
from ..network.topology import HealthCheck, Topology

__all__ = [
    "AWS_DEFAULT_HEALTH_CHECK",
    "FAILURES",
    "CHECKS",
    "HealthCheckTimeline",
    "FailoverTimeline",
    "PoolTimeline",
    "health_check_timeline",
    "health_check_settings",
    "removal_window_s",
    "removal_delay_s",
    "return_window_s",
    "resolve_health_check",
    "failover_timeline",
    "pool_timeline",
]

#: AWS's defaults for an ALB target group's HTTP health check.
AWS_DEFAULT_HEALTH_CHECK = HealthCheck(protocol="HTTP", path="/", port=3000, interval_s=30, timeout_s=5,
                                       healthy_threshold=5, unhealthy_threshold=2)

Failure = Literal["crash", "host-down", "db-unreachable", "check-only"]
FAILURES: dict[str, str] = {
    "crash": "the Node.js process crashed: the port refuses connections at once",
    "host-down": "the host is dead or firewalled: nothing answers, each check waits for its timeout",
    "db-unreachable": "the server is up but cannot reach its database; /health does not touch it",
    "check-only": "only /health fails (e.g. a bug in the handler); real requests would succeed",
}
_CHECK_FAILS = {"crash": True, "host-down": True, "db-unreachable": False, "check-only": True}
_REQUEST_FAILS = {"crash": True, "host-down": True, "db-unreachable": True, "check-only": False}
_STATUS = {"crash": "502", "host-down": "504", "db-unreachable": "504", "check-only": "200"}
#: What /health tests: ``shallow`` (the seed's handler: answers 200 while Node.js runs) or ``deep``
#: (it runs ``SELECT 1`` on a pooled connection and answers 503 when the database path is broken).
CHECKS: dict[str, str] = {
    "shallow": "/health answers 200 while the process runs (the seed's handler)",
    "deep": "/health runs SELECT 1 on a pooled connection and answers 503 when that fails",
}


def _check_fails(failure: str, check: str = "shallow") -> bool:
    """Whether the health check fails under ``failure``: a deep check also sees a broken database path."""
    return _CHECK_FAILS[failure] or (check == "deep" and failure == "db-unreachable")


def _check_kind(check: str) -> None:
    if check not in CHECKS:
        raise ParameterError(f"unknown health check {check!r}", "use 'shallow' (the seed's /health) or 'deep'")


# ============================================================================ health checks: the arithmetic


def resolve_health_check(topo: Topology | None, settings: str | HealthCheck = "topology",
                         **overrides: Any) -> HealthCheck:
    """The health-check settings to use: the topology's, AWS's defaults, or given; validated."""
    if isinstance(settings, HealthCheck):
        hc = settings
    elif settings == "topology":
        if topo is None:
            raise ParameterError("settings='topology' needs a topology", "pass topo, or settings='aws-default'")
        hc = topo.alb.health_check
    elif settings in ("aws-default", "aws"):
        hc = replace(AWS_DEFAULT_HEALTH_CHECK, port=topo.alb.health_check.port if topo else 3000)
    else:
        raise ParameterError(f"unknown health-check settings {settings!r}",
                   "use 'topology' (the loaded topology's), 'aws-default', or a tl.HealthCheck(...)")
    names = {"interval_s", "timeout_s", "healthy_threshold", "unhealthy_threshold", "path", "port", "protocol"}
    unknown = [k for k in overrides if k not in names]
    if unknown:
        raise ParameterError(f"unknown health-check setting(s): {', '.join(unknown)}", "known: " + ", ".join(sorted(names)))
    hc = replace(hc, **overrides)
    for k in ("interval_s", "timeout_s", "healthy_threshold", "unhealthy_threshold"):
        v = getattr(hc, k)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ParameterError(f"health check {k}={v!r} is not a number", "e.g. interval_s=30, unhealthy_threshold=2")
    problems = check_health_check(hc)
    if problems:
        raise ParameterError("health check: " + "; ".join(p.message for p in problems),
                   "; ".join(dict.fromkeys(p.hint for p in problems if p.hint)))
    return hc


def _check_failure(failure: str) -> None:
    if failure not in FAILURES:
        raise ParameterError(f"unknown failure {failure!r}", "use one of: " + ", ".join(FAILURES))


def _answer_s(hc: HealthCheck, failure: str) -> float:
    """How long a failing check takes to fail: at once when refused, the timeout when nothing answers."""
    return float(hc.timeout_s) if failure == "host-down" else 0.0


def removal_delay_s(hc: HealthCheck, failure: str, wait_s: float, check: str = "shallow") -> float:
    """Seconds from the failure to removal when the next check starts ``wait_s`` after it:
    ``wait + (unhealthy_threshold - 1) x interval (+ timeout when nothing answers)``."""
    _check_failure(failure)
    _check_kind(check)
    if not _check_fails(failure, check):
        return math.inf
    return wait_s + (hc.unhealthy_threshold - 1) * hc.interval_s + _answer_s(hc, failure)


def removal_window_s(hc: HealthCheck, failure: str = "crash", check: str = "shallow") -> tuple[float, float]:
    """The range of removal delays over where the failure falls between two checks
    (the low end when a check starts right at the failure; the high end just after one)."""
    return (removal_delay_s(hc, failure, 0.0, check), removal_delay_s(hc, failure, float(hc.interval_s), check))


def return_window_s(hc: HealthCheck) -> tuple[float, float]:
    """From the fix to back in rotation: ``wait + (healthy_threshold - 1) x interval``."""
    return ((hc.healthy_threshold - 1) * hc.interval_s, hc.healthy_threshold * hc.interval_s)


# ============================================================================ health checks: the timeline


@dataclass(frozen=True)
class CheckEvent:
    t_s: float          # when the check's result is known
    start_s: float
    node: str
    target: str
    passed: bool
    streak: int         # consecutive results of this kind
    healthy: bool       # the node's view of the target after this check
    changed: bool
    reason: str


@dataclass(frozen=True)
class HealthCheckTimeline:
    """What the ALB does when ``failed`` targets fail at ``t0_s`` (and recover at ``recover_s``)."""

    topology: str
    settings: HealthCheck
    failure: str
    failed: tuple[str, ...]
    targets: tuple[str, ...]
    node_targets: tuple[tuple[str, tuple[str, ...]], ...]   # node -> targets it sends to
    phases_s: tuple[tuple[str, float], ...]                   # node -> its first check time
    t0_s: float
    recover_s: float | None
    duration_s: float
    step_s: float
    health_check: bool
    topology_settings: HealthCheck | None = None
    check: str = "shallow"  # what /health tests: see CHECKS

    # ------------------------------------------------------------------ checks
    @cached_property
    def _events(self) -> tuple[CheckEvent, ...]:
        hc = self.settings
        out: list[CheckEvent] = []
        if not self.health_check:
            return ()
        for node, phase in self.phases_s:
            for target in dict(self.node_targets)[node]:
                healthy, streak_ok, streak_bad = True, 0, 0
                k = 0
                while True:
                    start = phase + k * hc.interval_s
                    if start > self.duration_s:
                        break
                    k += 1
                    down = target in self.failed and self._is_down(start)
                    fails = down and _check_fails(self.failure, self.check)
                    if fails:
                        done = start + _answer_s(hc, self.failure)
                        streak_bad, streak_ok = streak_bad + 1, 0
                        was = healthy
                        if healthy and streak_bad >= hc.unhealthy_threshold:
                            healthy = False
                        why = ("refused at once" if self.failure == "crash" else
                               f"no answer within the {hc.timeout_s} s timeout" if self.failure == "host-down" else
                               "the deep /health cannot reach the database: 503" if self.failure == "db-unreachable" else
                               "/health answers an error")
                        if was:
                            reason = (f"fail {streak_bad}/{hc.unhealthy_threshold}: {why}"
                                      + (" -> unhealthy, out of rotation" if not healthy else ""))
                        else:
                            reason = f"fail ({streak_bad} in a row): {why}; stays unhealthy"
                        out.append(CheckEvent(done, start, node, target, False, streak_bad, healthy, was != healthy, reason))
                    else:
                        streak_ok, streak_bad = streak_ok + 1, 0
                        was = healthy
                        if not healthy and streak_ok >= hc.healthy_threshold:
                            healthy = True
                        if down:
                            reason = "pass: the shallow /health answers 200 without touching the database"
                        elif not was:
                            reason = (f"pass {streak_ok}/{hc.healthy_threshold}"
                                      + (" -> healthy, back in rotation" if healthy else ""))
                        else:
                            reason = "pass"
                        out.append(CheckEvent(start, start, node, target, True, streak_ok, healthy, was != healthy, reason))
        return tuple(sorted(out, key=lambda e: (e.t_s, e.node, e.target)))

    def _is_down(self, t: float) -> bool:
        return t >= self.t0_s and (self.recover_s is None or t < self.recover_s)

    def _healthy_at(self, node: str, target: str, t: float) -> bool:
        state = True
        for e in self._events:
            if e.t_s > t:
                break
            if e.node == node and e.target == target:
                state = e.healthy
        return state

    def checks(self):
        """Every health check each ALB node made of the affected targets (or all, if none failed)."""
        import pandas as pd

        rows = [{"t_s": e.t_s, "start_s": e.start_s, "node": e.node, "target": e.target,
                 "result": "pass" if e.passed else "fail", "streak": e.streak,
                 "state": "healthy" if e.healthy else "unhealthy", "changed": e.changed, "reason": e.reason}
                for e in self._events if (e.target in self.failed or not self.failed)]
        return pd.DataFrame(rows, columns=["t_s", "start_s", "node", "target", "result", "streak", "state",
                                           "changed", "reason"])

    # ------------------------------------------------------------------ removal and return
    def _first_change(self, node: str, target: str, to_healthy: bool, after: float) -> float | None:
        for e in self._events:
            if e.node == node and e.target == target and e.changed and e.healthy == to_healthy and e.t_s >= after:
                return e.t_s
        return None

    def removed_s(self) -> dict[str, float | None]:
        """When each ALB node took the (first) failed target out of rotation (None: never)."""
        if not self.failed:
            return {}
        tgt = self.failed[0]
        return {n: self._first_change(n, tgt, False, self.t0_s) if tgt in dict(self.node_targets)[n] else None
                for n, _ in self.phases_s}

    def returned_s(self) -> dict[str, float | None]:
        """When each ALB node put it back (None: not within the timeline)."""
        if not self.failed or self.recover_s is None:
            return {n: None for n, _ in self.phases_s}
        tgt = self.failed[0]
        return {n: self._first_change(n, tgt, True, self.recover_s) if tgt in dict(self.node_targets)[n] else None
                for n, _ in self.phases_s}

    # ------------------------------------------------------------------ requests
    def _node_view(self, node: str, t: float) -> tuple[list[str], bool]:
        cands = list(dict(self.node_targets)[node])
        if not self.health_check:
            return cands, False
        rot = [x for x in cands if self._healthy_at(node, x, t)]
        if not rot:
            return cands, True  # fail open
        return rot, False

    def failing_share_at(self, t: float) -> float:
        """Share of requests that fail at time ``t``: DNS spreads browsers over the nodes, each
        node round-robins over the targets in its rotation (all of them when it fails open)."""
        shares = []
        for node, _ in self.phases_s:
            rot, _open = self._node_view(node, t)
            bad = [x for x in rot if x in self.failed and self._is_down(t) and _REQUEST_FAILS[self.failure]]
            shares.append(len(bad) / len(rot) if rot else 1.0)
        return sum(shares) / len(shares) if shares else 0.0

    def frame(self):
        """Per time step: the share of requests failing, how many nodes still route to the failed
        target, the status browsers see, and why."""
        import pandas as pd

        rows = []
        n_steps = int(round(self.duration_s / self.step_s))
        n_nodes = len(self.phases_s)
        for i in range(n_steps + 1):
            t = i * self.step_s
            share = self.failing_share_at(t)
            views = [self._node_view(n, t) for n, _ in self.phases_s]
            routing = sum(1 for rot, _ in views if self.failed and self.failed[0] in rot)
            opened = sum(1 for _, o in views if o)
            down = self._is_down(t) and bool(self.failed)
            if not down:
                back = self.recover_s is not None and t >= self.recover_s
                status = "200"
                if back and routing < n_nodes:
                    reason = (f"fixed; {n_nodes - routing} of {n_nodes} ALB node(s) still wait for "
                              f"{self.settings.healthy_threshold} passing checks")
                elif back:
                    reason = "fixed and back in rotation at every ALB node"
                else:
                    reason = "every target is up"
            else:
                status = _STATUS[self.failure] if share > 0 else "200"
                what = (FAILURES[self.failure] if not _check_fails(self.failure, self.check) or _CHECK_FAILS[self.failure]
                        else "the server is up but cannot reach its database; the deep /health sees it and answers 503")
                if opened:
                    reason = (f"{what}; every target is unhealthy at {opened} node(s), so the ALB fails open "
                              "and sends to all of them" + (": requests still succeed" if share == 0 else ""))
                elif not self.health_check:
                    reason = (f"{what}; without a health check nothing is removed: {share * 100:.0f}% of requests "
                              f"keep failing (1 in {len(self.targets)})" + " — AWS cannot switch health checks off "
                              "for instance targets; this is what the seed's mistake would mean")
                elif routing == 0:
                    reason = f"{what}; removed at every ALB node: no request reaches it"
                elif self.failure == "db-unreachable" and self.check == "shallow":
                    reason = (f"{what}: the shallow /health passes, so {routing} of {n_nodes} node(s) keep sending "
                              f"it requests and {share * 100:.0f}% fail")
                else:
                    reason = (f"{what}; still in rotation at {routing} of {n_nodes} ALB node(s): "
                              f"{share * 100:.0f}% of requests fail with {status}")
            rows.append({"t_s": t, "failing_share": share, "nodes_routing": routing, "fail_open_nodes": opened,
                         "target_down": down, "status": status, "reason": reason})
        return pd.DataFrame(rows)

    def failed_share_until_removal(self) -> float:
        """The mean share of requests failing between the failure and removal at every node."""
        rem = self.removed_s()
        if not rem or any(v is None for v in rem.values()):
            end = self.duration_s if self.recover_s is None else min(self.duration_s, self.recover_s)
        else:
            end = max(v for v in rem.values() if v is not None)
        if end <= self.t0_s:
            return 0.0
        # the share only changes when a check changes a node's view: integrate exactly between those times
        cuts = sorted({self.t0_s, end} | {e.t_s for e in self._events if e.changed and self.t0_s < e.t_s < end})
        area = sum((b - a) * self.failing_share_at((a + b) / 2) for a, b in zip(cuts, cuts[1:]))
        return area / (end - self.t0_s)

    def summary(self):
        """Removal per node (and the analytic range), requests failing until then, the return."""
        import pandas as pd

        hc = self.settings
        lo, hi = removal_window_s(hc, self.failure, self.check)
        rows = [{"metric": "settings", "value": f"interval {hc.interval_s} s, timeout {hc.timeout_s} s, "
                 f"healthy {hc.healthy_threshold}, unhealthy {hc.unhealthy_threshold}",
                 "reason": ("the topology's target-group health check" if hc == self.topology_settings
                            else "AWS's defaults" if hc == AWS_DEFAULT_HEALTH_CHECK else "given settings")}]
        if not self.health_check:
            rows.append({"metric": "removal window", "value": "never",
                         "reason": "no health check: nothing is ever removed (AWS cannot switch it off for "
                                   "instance targets; this shows what the seed's mistake would mean)"})
        elif math.isinf(lo):
            rows.append({"metric": "removal window", "value": "never",
                         "reason": "the check passes while requests fail: /health must test what requests need"})
        else:
            rows.append({"metric": "removal window", "value": f"{lo:.0f}-{hi:.0f} s after the failure",
                         "reason": f"the next check comes 0-{hc.interval_s} s after the failure, then "
                                   f"{hc.unhealthy_threshold - 1} more x {hc.interval_s} s"
                                   + (f", each failing only after its {hc.timeout_s} s timeout"
                                      if self.failure == "host-down" else
                                      ", each answered 503 at once by the deep /health"
                                      if self.failure == "db-unreachable" else ", each refused at once")})
        for node, t in self.removed_s().items():
            rows.append({"metric": f"removed by {node}",
                         "value": "never" if t is None else f"{t - self.t0_s:.0f} s after the failure (t={t:.0f} s)",
                         "reason": "each ALB node checks on its own, so each removes the target at its own time"})
        rows.append({"metric": "requests failing until removal", "value": f"{self.failed_share_until_removal() * 100:.1f}%",
                     "reason": f"1 in {len(self.targets)} while every node still sends to it, fewer as nodes remove it"})
        if self.recover_s is not None:
            rlo, rhi = return_window_s(hc)
            for node, t in self.returned_s().items():
                rows.append({"metric": f"returned by {node}",
                             "value": "not yet" if t is None else f"{t - self.recover_s:.0f} s after the fix",
                             "reason": f"{hc.healthy_threshold} passing checks in a row: {rlo:.0f}-{rhi:.0f} s"})
        return pd.DataFrame(rows)

    def _repr_html_(self) -> str:
        return (f"<div class='tl-health'><b>{html.escape(self.topology)}: {html.escape(self.failure)} at "
                f"t={self.t0_s:.0f} s</b>{self.summary().to_html(index=False)}</div>")


def health_check_timeline(topo: Topology, *, failure: str = "crash", failed: tuple[str, ...] | str | None = None,
                          t0_s: float = 10.0, recover_s: float | None = None, duration_s: float = 240.0,
                          settings: str | HealthCheck = "topology", phases_s: dict[str, float] | None = None,
                          health_check: bool = True, step_s: float = 1.0, check: str = "shallow",
                          **overrides: Any) -> HealthCheckTimeline:
    """A target (default: the first) fails at ``t0_s``: when does each ALB node remove it, what
    share of requests fail meanwhile, when does it return after ``recover_s``.

    ``settings``: ``topology`` (default), ``aws-default`` or a ``HealthCheck``; ``overrides``
    change single settings (``interval_s=10``). ``phases_s``: each node's first check time
    (default: the nodes spread evenly over one interval). ``health_check=False`` shows what
    would happen without one (AWS cannot switch them off for instance targets). ``check``: what
    /health tests, ``shallow`` (the seed's handler) or ``deep`` (it queries the database, so
    ``db-unreachable`` fails the check too).
    """
    _check_failure(failure)
    _check_kind(check)
    hc = resolve_health_check(topo, settings, **overrides)
    targets = tuple(topo.alb.targets)
    if not targets:
        raise ParameterError(f"target group {topo.alb.target_group} has no targets", "add API servers to the target group")
    if failed is None:
        failed = (targets[0],)
    elif isinstance(failed, str):
        failed = (failed,) if failed != "all" else targets
    unknown = [f for f in failed if f not in targets]
    if unknown:
        raise ParameterError(f"not a target of {topo.alb.target_group}: {', '.join(unknown)}", "targets: " + ", ".join(targets))
    for name, v in (("t0_s", t0_s), ("duration_s", duration_s), ("step_s", step_s)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
            raise ParameterError(f"{name}={v!r} must be a time in seconds >= 0", "e.g. t0_s=10, duration_s=240")
    if step_s <= 0:
        raise ParameterError("step_s must be > 0", "e.g. step_s=1")
    if duration_s / step_s > 100_000 or duration_s / hc.interval_s > 10_000:
        raise ParameterError(f"a timeline of {duration_s:g} s in {step_s:g} s steps is too long to draw",
                   "keep duration_s / step_s under 100,000 (a few minutes show the whole story)")
    if recover_s is not None and recover_s < t0_s:
        raise ParameterError(f"recover_s={recover_s} comes before the failure at t0_s={t0_s}", "recover after t0_s, or None")
    az = {i.name: topo.subnet(i.subnet).az for i in topo.instances}
    nodes = topo.alb.nodes
    node_targets = tuple(
        (n.name, targets if topo.alb.cross_zone else tuple(t for t in targets if az.get(t) == topo.subnet(n.subnet).az))
        for n in nodes)
    if phases_s is None:
        phases = tuple((n.name, (i + 0.5) * hc.interval_s / len(nodes)) for i, n in enumerate(nodes))
    else:
        missing = [n.name for n in nodes if n.name not in phases_s]
        if missing:
            raise ParameterError(f"phases_s lacks ALB node(s) {', '.join(missing)}", "give every node its first check time")
        bad = [k for k, v in phases_s.items() if not 0 <= v < hc.interval_s]
        if bad:
            raise ParameterError(f"phases_s for {', '.join(bad)} is outside 0-{hc.interval_s} s",
                       "a node's first check comes within one interval")
        phases = tuple((n.name, float(phases_s[n.name])) for n in nodes)
    return HealthCheckTimeline(topo.name, hc, failure, tuple(failed), targets, node_targets, phases, float(t0_s),
                               None if recover_s is None else float(recover_s), float(duration_s), float(step_s),
                               bool(health_check), topo.alb.health_check, check)


def health_check_settings(topo: Topology, failure: str = "crash"):
    """The topology's health check beside AWS's defaults: removal and return windows."""
    import pandas as pd

    rows = []
    for label, settings in (("topology", "topology"), ("AWS default", "aws-default")):
        hc = resolve_health_check(topo, settings)
        lo, hi = removal_window_s(hc, failure)
        rlo, rhi = return_window_s(hc)
        tl = health_check_timeline(topo, failure=failure, settings=settings, t0_s=hc.interval_s * 0.25,
                                   duration_s=hc.interval_s * (hc.unhealthy_threshold + 2) + hc.timeout_s)
        rows.append({
            "settings": label, "interval_s": hc.interval_s, "timeout_s": hc.timeout_s,
            "healthy_threshold": hc.healthy_threshold, "unhealthy_threshold": hc.unhealthy_threshold,
            "removal_min_s": lo, "removal_max_s": hi, "return_min_s": rlo, "return_max_s": rhi,
            "failing_until_removal": tl.failed_share_until_removal(),
            "reason": (f"{FAILURES[failure]}: removed {lo:.0f}-{hi:.0f} s after the failure "
                       f"({hc.unhealthy_threshold} failed checks {hc.interval_s} s apart), back "
                       f"{rlo:.0f}-{rhi:.0f} s after the fix ({hc.healthy_threshold} passing checks)"),
        })
    return pd.DataFrame(rows)


# ============================================================================ RDS failover


def _standby_verdict(topo: Topology) -> tuple[float, float, str]:
    """(share before, share after failover, why) — from the evaluator, so the two agree."""
    before = journey(topo, database="primary")
    if topo.database.instance("standby") is None:
        return before.success_share, 0.0, "the database has no standby"
    after = journey(topo, database="standby")
    if after.success_share >= before.success_share:
        why = "every API server that reached the primary reaches the standby"
    else:
        old = {(b.component, b.rule_ids, b.step) for b in before.blocks}
        new = [b for b in after.blocks if (b.component, b.rule_ids, b.step) not in old] or list(after.blocks)
        b = new[0]
        rule = ", ".join(b.rule_ids) or b.component
        why = (f"after the failover only {after.success_share * 100:.0f}% of requests succeed: {rule} at {b.step} — "
               f"{b.reason}")
    return before.success_share, after.success_share, why


@dataclass(frozen=True)
class FailoverTimeline:
    topology: str
    t0_s: float
    failover_s: float
    failover_range_s: tuple[int, int]
    ttl_s: float
    reconnect_s: float
    zone_outage_s: float
    duration_s: float
    step_s: float
    multi_az: bool
    share_before: float
    share_after: float
    standby_reason: str
    clients: tuple[str, ...]
    private_name: str = ""
    private_ttl_s: float = 0.0

    def _ttl(self, client: str) -> float:
        # a stub caches a CNAME chain's answer for its lowest TTL: the endpoint's, not the CNAME's
        return min(self.private_ttl_s, self.ttl_s) if client == "private-name" else self.ttl_s

    def recovery_s(self, client: str) -> float | None:
        """When ``client`` can write again (None: never within reach)."""
        if client == "hard-coded-ip":
            return None
        if client == "single-az" or not self.multi_az:
            return self.t0_s + self.zone_outage_s + self.reconnect_s if math.isfinite(self.zone_outage_s) else None
        if self.share_after == 0:
            return None
        return self.t0_s + self.failover_s + self._ttl(client) + self.reconnect_s

    def recovery_window_s(self) -> tuple[float, float]:
        """For a DNS client of a Multi-AZ database: from the failure to writing again, over the
        failover range and where in its TTL the client's cached answer was."""
        lo, hi = self.failover_range_s
        return (lo + self.reconnect_s, hi + self.ttl_s + self.reconnect_s)

    def _row(self, client: str, t: float) -> dict[str, Any]:
        flip = self.t0_s + self.failover_s
        if t < self.t0_s:
            return {"state": "up", "success_share": self.share_before,
                    "reason": "the primary serves; the endpoint's CNAME points at it"}
        if client == "hard-coded-ip":
            if t < flip:
                st, why = "down", "the primary is gone; the app connects to its IP"
            else:
                st, why = "down for good", ("the CNAME flipped to the standby, but this app connects to the old "
                                            "primary's IP: it never recovers until someone edits the config")
            return {"state": st, "success_share": 0.0, "reason": why}
        if client == "single-az" or not self.multi_az:
            end = self.t0_s + self.zone_outage_s
            if t < end:
                return {"state": "down", "success_share": 0.0,
                        "reason": "single-AZ: no standby to fail over to; down for the whole zone outage"}
            if t < end + self.reconnect_s:
                return {"state": "reconnecting", "success_share": 0.0, "reason": "the zone is back; reconnecting"}
            return {"state": "recovered", "success_share": self.share_before, "reason": "the zone is back"}
        if t < flip:
            return {"state": "failing over", "success_share": 0.0,
                    "reason": f"RDS detects the failure and promotes the standby ({self.failover_range_s[0]}-"
                              f"{self.failover_range_s[1]} s)"}
        ttl = self._ttl(client)
        if t < flip + ttl:
            extra = (f"; {self.private_name} is a CNAME with TTL {self.private_ttl_s:.0f} s, but the answer expires "
                     "with the chain's lowest TTL" if client == "private-name" else "")
            return {"state": "waiting for TTL", "success_share": 0.0,
                    "reason": f"the CNAME points at the standby, but the client's cached answer lives up to "
                              f"{ttl:.0f} s (the endpoint's TTL){extra}"}
        if t < flip + ttl + self.reconnect_s:
            return {"state": "reconnecting", "success_share": 0.0,
                    "reason": "the client re-resolves the endpoint and opens new connections"}
        if self.share_after < self.share_before or self.share_after == 0:
            return {"state": "cannot reach standby" if self.share_after == 0 else "partly recovered",
                    "success_share": self.share_after, "reason": self.standby_reason}
        return {"state": "recovered", "success_share": self.share_after,
                "reason": "the endpoint resolves to the new primary and the app reaches it"}

    def frame(self):
        """Per time step and client: the share of Create Account requests that succeed, and why."""
        import pandas as pd

        rows = []
        n = int(round(self.duration_s / self.step_s))
        for client in self.clients:
            for i in range(n + 1):
                t = i * self.step_s
                rows.append({"t_s": t, "client": client, **self._row(client, t)})
        return pd.DataFrame(rows, columns=["t_s", "client", "state", "success_share", "reason"])

    def _repr_html_(self) -> str:
        return (f"<div class='tl-failover'><b>{html.escape(self.topology)}: RDS failover at t={self.t0_s:.0f} s"
                f"</b>{self.summary().to_html(index=False)}</div>")

    def summary(self):
        import pandas as pd

        rows = []
        for c in self.clients:
            r = self.recovery_s(c)
            if c in ("dns", "private-name") and self.multi_az:
                lo, hi = self.recovery_window_s()
                reason = (f"failover {self.failover_range_s[0]}-{self.failover_range_s[1]} s + up to the "
                          f"{self.ttl_s:.0f} s TTL + reconnect: {lo:.0f}-{hi:.0f} s"
                          + ("" if self.share_after > 0 else f"; but {self.standby_reason}"))
            elif c == "hard-coded-ip":
                reason = "the old primary's address never serves again"
            else:
                reason = "no standby: down until the zone returns"
            rows.append({"client": c, "recovers_after_s": None if r is None else r - self.t0_s,
                         "share_after": self._row(c, self.duration_s)["success_share"], "reason": reason})
        return pd.DataFrame(rows)


def failover_timeline(topo: Topology, *, t0_s: float = 30.0, failover_s: float | None = None,
                      duration_s: float = 300.0, reconnect_s: float = 1.0, zone_outage_s: float | None = None,
                      step_s: float = 1.0,
                      clients: tuple[str, ...] = ("dns", "hard-coded-ip", "single-az")) -> FailoverTimeline:
    """The primary's AZ fails at ``t0_s``. ``dns``: the app uses the endpoint (Multi-AZ if the
    topology says so); ``hard-coded-ip``: the app uses the primary's address; ``single-az``: the
    same database without a standby. Failover time, TTL and Multi-AZ come from ``topo.database``;
    whether the app reaches the standby comes from ``journey(topo, database='standby')``.
    ``private-name`` (optional): the app uses the private CNAME to the endpoint from ``topo.records``
    (the seed's db.myapp.internal, TTL 300 s)."""
    db = topo.database
    lo, hi = db.failover_s
    fo = (lo + hi) / 2 if failover_s is None else failover_s
    for name, v in (("t0_s", t0_s), ("failover_s", fo), ("duration_s", duration_s), ("reconnect_s", reconnect_s),
                    ("step_s", step_s)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
            raise ParameterError(f"{name}={v!r} must be a time in seconds >= 0", "e.g. t0_s=30, failover_s=90")
    if step_s <= 0:
        raise ParameterError("step_s must be > 0", "e.g. step_s=1")
    if duration_s / step_s > 100_000:
        raise ParameterError(f"a timeline of {duration_s:g} s in {step_s:g} s steps is too long to draw",
                   "keep duration_s / step_s under 100,000")
    known = ("dns", "hard-coded-ip", "single-az", "private-name")
    bad = [c for c in clients if c not in known]
    if bad:
        raise ParameterError(f"unknown client(s) {', '.join(bad)}", "use " + ", ".join(known))
    zo = (math.inf if zone_outage_s is None else float(zone_outage_s))
    if zo < 0:
        raise ParameterError(f"zone_outage_s={zone_outage_s} is negative", "a time in seconds, or None (longer than the chart)")
    private = next((r for r in topo.records if r.private and r.target == db.endpoint), None)
    if "private-name" in clients and private is None:
        raise ParameterError(f"no private DNS record points at {db.endpoint}", "drop 'private-name' from clients, or add "
                   "a private CNAME (the seed's db.myapp.internal) to the topology")
    before, after, why = _standby_verdict(topo)
    return FailoverTimeline(topo.name, float(t0_s), float(fo), (lo, hi), float(db.endpoint_ttl_s), float(reconnect_s),
                            zo, float(duration_s), float(step_s), db.multi_az, before, after, why, tuple(clients),
                            private.name if private else "", float(private.ttl_s) if private else 0.0)


# ============================================================================ the pool across a failover


@dataclass(frozen=True)
class PoolTimeline:
    topology: str
    server: str
    pre_ping: bool
    pool_size: int
    requests_per_s: float
    idle_timeout_s: float | None
    t0_s: float
    ready_s: float | None        # when a new connection reaches the new primary (None: never)
    duration_s: float
    reach_reason: str

    @cached_property
    def _rows(self) -> tuple[dict[str, Any], ...]:
        # each connection: [generation, last_used_s]; generation 0 = the old primary
        conns: list[list[float]] = [[0, 0.0] for _ in range(self.pool_size)]
        rows: list[dict[str, Any]] = []
        gap = 1.0 / self.requests_per_s
        k = 0
        while True:
            t = k * gap
            if t > self.duration_s:
                break
            k += 1
            if self.idle_timeout_s is not None:
                conns = [c for c in conns if t - c[1] <= self.idle_timeout_s]
            failed_over = t >= self.t0_s
            reachable = (not failed_over) or (self.ready_s is not None and t >= self.ready_s)
            pings, outcome, reason = 0, "", ""
            while True:
                idle = sorted(conns, key=lambda c: -c[1])  # LIFO: the most recently used first
                c = idle[0] if idle else None
                if c is not None:
                    stale = failed_over and c[0] == 0
                    if not stale:
                        c[1] = t
                        outcome, reason = "ok", "a pooled connection to the current primary"
                        break
                    if self.pre_ping:
                        pings += 1
                        conns.remove(c)
                        continue  # the ping failed: drop it, try the next one
                    conns.remove(c)
                    outcome, reason = "failed", ("a stale pooled connection to the old primary: the query fails "
                                                 "(connection terminated) and the pool drops it")
                    break
                if reachable:
                    conns.append([1 if failed_over else 0, t])
                    outcome, reason = "ok", ("opened a new connection to the new primary" if failed_over
                                             else "opened a new connection")
                    break
                outcome, reason = "failed", (f"no connection: {self.reach_reason}" if (self.ready_s is None and failed_over
                                                                                     and t >= self.t0_s) else
                                             "no connection: the database is failing over")
                break
            if pings:
                reason = f"pre-ping found {pings} dead connection(s) and dropped them; " + reason
            stale_n = sum(1 for c in conns if failed_over and c[0] == 0)
            rows.append({"t_s": t, "outcome": outcome, "stale": stale_n, "open": len(conns),
                         "after_recovery": self.ready_s is not None and t >= self.ready_s,
                         "pre_pings_failed": pings, "reason": reason})
        return tuple(rows)

    def frame(self):
        """One row per request: ok or failed, the pool's stale and open connections, and why."""
        import pandas as pd

        df = pd.DataFrame(list(self._rows), columns=["t_s", "outcome", "stale", "open", "after_recovery",
                                                     "pre_pings_failed", "reason"])
        df["failed_total"] = (df["outcome"] == "failed").cumsum()
        return df

    @property
    def failed_after_recovery(self) -> int:
        """Requests that failed although the database was back: the stale connections."""
        return sum(1 for r in self._rows if r["after_recovery"] and r["outcome"] == "failed")

    @property
    def failed_total(self) -> int:
        return sum(1 for r in self._rows if r["outcome"] == "failed")

    def _repr_html_(self) -> str:
        return f"<div class='tl-pool'><b>{html.escape(self.summary())}</b></div>"

    def summary(self) -> str:
        pp = "with pre-ping" if self.pre_ping else "without pre-ping"
        if self.ready_s is None:
            return f"{self.server}, {pp}: the new primary is never reachable ({self.reach_reason})"
        return (f"{self.server}, {pp}: {self.failed_total} request(s) failed, {self.failed_after_recovery} of them after "
                f"the database was back at t={self.ready_s:.0f} s (stale pooled connections fail once each unless "
                "checked before use)")


def pool_timeline(topo: Topology, *, pre_ping: bool = False, pool_size: int = 10, requests_per_s: float = 0.05,
                  idle_timeout_s: float | None = None, t0_s: float = 30.0, failover_s: float | None = None,
                  duration_s: float = 400.0, server: str | None = None) -> PoolTimeline:
    """One API server's pool across an RDS failover: connections to the old primary are stale;
    without pre-ping each fails one request, with pre-ping it is replaced unseen; the pool refills.

    ``pool_size`` defaults to the seed's DB_POOL_SIZE=10; ``requests_per_s`` is one server's
    traffic (a quiet sign-up form uses a few stale connections during the outage, so some
    survive it); ``idle_timeout_s`` closes idle connections (node-postgres defaults to 10 s;
    None keeps them). Failover time and TTL come from ``topo.database``; whether this server
    reaches the standby comes from the evaluator.
    """
    if isinstance(pool_size, bool) or not isinstance(pool_size, int) or pool_size < 1:
        raise ParameterError(f"pool_size={pool_size!r} must be a whole number >= 1", "the seed's DB_POOL_SIZE is 10")
    for name, v in (("requests_per_s", requests_per_s), ("t0_s", t0_s), ("duration_s", duration_s)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
            raise ParameterError(f"{name}={v!r} must be a number >= 0", "e.g. requests_per_s=0.05, t0_s=30")
    if requests_per_s <= 0:
        raise ParameterError("requests_per_s must be > 0", "e.g. 0.05 (one sign-up every 20 s)")
    if duration_s * requests_per_s > 200_000:
        raise ParameterError("more than 200,000 requests in the timeline", "shorten duration_s or lower requests_per_s")
    if idle_timeout_s is not None and idle_timeout_s < 0:
        raise ParameterError(f"idle_timeout_s={idle_timeout_s} is negative", "seconds, or None to keep idle connections")
    targets = topo.alb.targets
    srv = server or targets[0]
    if srv not in targets:
        raise ParameterError(f"{srv!r} is not an API server of this topology", "one of " + ", ".join(targets))
    db = topo.database
    fo = (db.failover_s[0] + db.failover_s[1]) / 2 if failover_s is None else float(failover_s)
    if db.instance("standby") is None or not db.multi_az:
        ready, why = None, "single-AZ: no standby to fail over to"
    else:
        tr = journey(topo, database="standby")
        mine = [p for p in tr.pairs if p.target == srv]
        if mine and all(p.db.ok for p in mine):
            ready, why = t0_s + fo + db.endpoint_ttl_s, "the standby is reachable"
        else:
            b = mine[0].db.blocking[0] if mine and mine[0].db.blocking else None
            ready = None
            why = f"{srv} cannot reach the standby: {b.reason}" if b else f"{srv} cannot reach the standby"
    return PoolTimeline(topo.name, srv, bool(pre_ping), pool_size, float(requests_per_s), idle_timeout_s, float(t0_s),
                        ready, float(duration_s), why)
